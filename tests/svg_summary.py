#!/usr/bin/env python3
"""What a chart of report.html holds, for tests/test_report.cpp.

Parses one SVG file with xml.etree (so it fails on SVG that is not
well-formed XML) and prints, one per line:
  BAR <signed height>      each shape filled with the first series' colour
                           (PLplot writes a filled bar as a closed polyline;
                           height = third point's y minus the first's)
  TEXT <text>              each <text> element's characters
usage: svg_summary.py FILE.svg
"""
import sys
import xml.etree.ElementTree as ET

SVG = "{http://www.w3.org/2000/svg}"
FIRST_SERIES = "#1F77B4"


def main():
    root = ET.parse(sys.argv[1]).getroot()
    if root.tag != SVG + "svg":
        sys.exit("not an <svg> root: " + root.tag)
    for element in root.iter():
        if element.tag == SVG + "polyline" and element.get("fill") == FIRST_SERIES:
            points = [tuple(map(float, p.split(","))) for p in element.get("points").split()]
            print("BAR %.2f" % (points[2][1] - points[0][1]))
        elif element.tag == SVG + "text":
            print("TEXT " + "".join(element.itertext()))


if __name__ == "__main__":
    main()
