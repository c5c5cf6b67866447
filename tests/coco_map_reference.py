#!/usr/bin/env python3
"""Test-only reference for evaluate_detections(): a short numpy transcription
of pycocotools COCOeval (bbox, area "all", maxDets 100, no crowd boxes:
evaluateImg, accumulate, summarize) and of the precision/recall part of
Ultralytics' ap_per_class, fed with the IoU-0.5 matches of the former.

IoU uses box corners (pycocotools takes x, y, w, h; same value up to
rounding) so that both sides see identical IoUs.

Usage: coco_map_reference.py case.json result.json [predictions.json]
case.json: {"num_classes": N, "images": [{"detections": [[x1, y1, x2, y2, score, class], ...],
                                           "truths": [[x1, y1, x2, y2, class], ...]}, ...]}
With predictions.json (a COCO results file: image_id, category_id, bbox
[x, y, w, h], score), each image of case.json names its "image_id" and its
detections are read from that file instead.
"""
import json
import sys

import numpy as np

IOU_THRS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
REC_THRS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
MAX_DET = 100


def box_area(b):
    return (b[2] - b[0]) * (b[3] - b[1]) if b[2] > b[0] and b[3] > b[1] else 0.0


def iou(d, g):
    w = min(d[2], g[2]) - max(d[0], g[0])
    h = min(d[3], g[3]) - max(d[1], g[1])
    if w <= 0 or h <= 0:
        return 0.0
    union = box_area(d) + box_area(g) - w * h
    return w * h / union if union > 0 else 0.0


def evaluate_img(dt, gt):
    """COCOeval.evaluateImg for one image and category (no ignored boxes)."""
    if len(gt) == 0 and len(dt) == 0:
        return None
    dtind = np.argsort([-d[4] for d in dt], kind='mergesort')
    dt = [dt[i] for i in dtind[0:MAX_DET]]
    ious = np.array([[iou(d, g) for g in gt] for d in dt]).reshape(len(dt), len(gt))
    T, G, D = len(IOU_THRS), len(gt), len(dt)
    gtm = np.zeros((T, G))
    dtm = np.zeros((T, D))
    for tind, t in enumerate(IOU_THRS):
        for dind in range(D):
            best = min([t, 1 - 1e-10])
            m = -1
            for gind in range(G):
                if gtm[tind, gind] > 0:
                    continue
                if ious[dind, gind] < best:
                    continue
                best = ious[dind, gind]
                m = gind
            if m == -1:
                continue
            dtm[tind, dind] = m + 1
            gtm[tind, m] = dind + 1
    return {'dtScores': [d[4] for d in dt], 'dtMatches': dtm, 'dtIgnore': np.zeros((T, D)), 'gtIgnore': np.zeros(G)}


def accumulate_category(E):
    """COCOeval.accumulate for one category: precision (T, R), -1 when absent,
    plus the score-sorted detections and their IoU-0.5 TP flags."""
    T, R = len(IOU_THRS), len(REC_THRS)
    precision = -np.ones((T, R))
    E = [e for e in E if e is not None]
    if len(E) == 0:
        return precision, None
    dtScores = np.concatenate([e['dtScores'][0:MAX_DET] for e in E])
    inds = np.argsort(-dtScores, kind='mergesort')
    dtScoresSorted = dtScores[inds]
    dtm = np.concatenate([e['dtMatches'][:, 0:MAX_DET] for e in E], axis=1)[:, inds]
    dtIg = np.concatenate([e['dtIgnore'][:, 0:MAX_DET] for e in E], axis=1)[:, inds]
    gtIg = np.concatenate([e['gtIgnore'] for e in E])
    npig = np.count_nonzero(gtIg == 0)
    if npig == 0:
        return precision, None
    tps = np.logical_and(dtm, np.logical_not(dtIg))
    fps = np.logical_and(np.logical_not(dtm), np.logical_not(dtIg))
    tp_sum = np.cumsum(tps, axis=1).astype(dtype=float)
    fp_sum = np.cumsum(fps, axis=1).astype(dtype=float)
    for t, (tp, fp) in enumerate(zip(tp_sum, fp_sum)):
        tp = np.array(tp)
        fp = np.array(fp)
        nd = len(tp)
        rc = tp / npig
        pr = tp / (fp + tp + np.spacing(1))
        q = np.zeros((R,))
        pr = pr.tolist()
        q = q.tolist()
        for i in range(nd - 1, 0, -1):
            if pr[i] > pr[i - 1]:
                pr[i - 1] = pr[i]
        inds = np.searchsorted(rc, REC_THRS, side='left')
        try:
            for ri, pi in enumerate(inds):
                q[ri] = pr[pi]
        except IndexError:
            pass
        precision[t, :] = np.array(q)
    return precision, (dtScoresSorted, tps[0].astype(float), npig)


def smooth(y, f=0.05):
    nf = round(len(y) * f * 2) // 2 + 1
    p = np.ones(nf // 2)
    yp = np.concatenate((p * y[0], y, p * y[-1]), 0)
    return np.convolve(yp, np.ones(nf) / nf, mode="valid")


def ultralytics_precision_recall(per_class):
    """ap_per_class's max-F1 precision and recall; per_class: (conf, tp, n_labels) per class with truth."""
    if not per_class:
        return 0.0, 0.0
    eps = 1e-16
    x = np.linspace(0, 1, 1000)
    p_curve, r_curve = np.zeros((len(per_class), 1000)), np.zeros((len(per_class), 1000))
    for ci, (conf, tp, n_l) in enumerate(per_class):
        if len(conf) == 0 or n_l == 0:
            continue
        fpc = (1 - tp).cumsum(0)
        tpc = tp.cumsum(0)
        recall = tpc / (n_l + eps)
        r_curve[ci] = np.interp(-x, -conf, recall, left=0)
        precision = tpc / (tpc + fpc)
        p_curve[ci] = np.interp(-x, -conf, precision, left=1)
    f1_curve = 2 * p_curve * r_curve / (p_curve + r_curve + eps)
    i = smooth(f1_curve.mean(0), 0.1).argmax()
    return p_curve[:, i].mean(), r_curve[:, i].mean()


def evaluate(case):
    num_classes = case['num_classes']
    precision = -np.ones((len(IOU_THRS), len(REC_THRS), num_classes))
    per_class_pr = []
    for k in range(num_classes):
        E = [evaluate_img([d for d in image['detections'] if d[5] == k], [g for g in image['truths'] if g[4] == k])
             for image in case['images']]
        precision[:, :, k], matches = accumulate_category(E)
        if matches is not None:
            per_class_pr.append(matches)
    valid = precision > -1
    s50 = precision[0]
    p, r = ultralytics_precision_recall(per_class_pr)
    return {
        'map50_95': float(np.mean(precision[valid])) if valid.any() else 0.0,
        'map50': float(np.mean(s50[s50 > -1])) if (s50 > -1).any() else 0.0,
        'precision': float(p),
        'recall': float(r),
        'ap50_95_per_class': [float(np.mean(precision[:, :, k])) if valid[:, :, k].any() else -1.0
                              for k in range(num_classes)],
    }


def attach_predictions(case, predictions):
    by_image = {}
    for p in predictions:
        x, y, w, h = p['bbox']
        by_image.setdefault(p['image_id'], []).append([x, y, x + w, y + h, p['score'], p['category_id']])
    for image in case['images']:
        image['detections'] = by_image.get(image['image_id'], [])
    return case


if __name__ == '__main__':
    with open(sys.argv[1]) as f:
        case = json.load(f)
    if len(sys.argv) > 3:
        with open(sys.argv[3]) as f:
            case = attach_predictions(case, json.load(f))
    result = evaluate(case)
    with open(sys.argv[2], 'w') as f:
        json.dump(result, f)
