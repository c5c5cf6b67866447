// Feature-map planning (compiler/emit/fmap_plan.hpp): views by union-find
// with offsets, group lifetimes, first-fit addresses.
#include "compiler/emit/fmap_plan.hpp"

#include <algorithm>
#include <numeric>

namespace yq {

namespace {

std::int64_t words_of(const TensorShape& shape) {
  return std::int64_t{shape.channels} * shape.height * shape.width;
}

// Nodes joined by views; offset[i] is node i's first word relative to its parent's.
class ViewGroups {
 public:
  explicit ViewGroups(size_t count) : parent_(count), offset_(count, 0) {
    std::iota(parent_.begin(), parent_.end(), 0);
  }

  int root(int node) {
    if (parent_[node] == node) return node;
    const int parent = parent_[node];
    const int top = root(parent);
    offset_[node] += offset_[parent];  // the parent's offset is now relative to top
    parent_[node] = top;
    return top;
  }

  // Word offset of `node` within its group (relative to the root).
  std::int64_t offset(int node) {
    root(node);
    return offset_[node];
  }

  // Places `part` at `offset` words after `whole`; false when they are
  // already grouped at another distance.
  bool place(int part, int whole, std::int64_t offset) {
    const int part_root = root(part), whole_root = root(whole);
    const std::int64_t wanted = offset_[whole] + offset - offset_[part];  // part_root relative to whole_root
    if (part_root == whole_root) return wanted == 0;
    parent_[part_root] = whole_root;
    offset_[part_root] = wanted;
    return true;
  }

 private:
  std::vector<int> parent_;
  std::vector<std::int64_t> offset_;
};

// Whether the written (non-view) members of a group occupy disjoint words:
// views only name words their members write.
bool writers_are_disjoint(const std::vector<TensorShape>& shapes, const std::vector<bool>& view, ViewGroups& groups,
                          int group) {
  std::vector<std::pair<std::int64_t, std::int64_t>> ranges;
  for (size_t i = 0; i < shapes.size(); ++i) {
    if (view[i] || groups.root(static_cast<int>(i)) != group) continue;
    const std::int64_t low = groups.offset(static_cast<int>(i));
    ranges.emplace_back(low, low + words_of(shapes[i]));
  }
  std::sort(ranges.begin(), ranges.end());
  for (size_t k = 1; k < ranges.size(); ++k) {
    if (ranges[k].first < ranges[k - 1].second) return false;
  }
  return true;
}

// Slices always, concats where their group allows.
void find_views(const Graph& graph, const std::vector<TensorShape>& shapes, const std::vector<bool>& concat_passes_inputs,
                ViewGroups& groups, std::vector<bool>& view) {
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const Node& node = graph.nodes[i];
    const int index = static_cast<int>(i);
    if (node.op == OpKind::Slice) {
      const TensorShape& source = shapes[node.inputs[0]];
      groups.place(index, node.inputs[0], std::int64_t{node.channel_begin} * source.height * source.width);
      view[i] = true;
    } else if (node.op == OpKind::Concat && concat_passes_inputs[i]) {
      ViewGroups trial = groups;
      std::vector<bool> trial_view = view;
      trial_view[i] = true;
      bool placed = true;
      std::int64_t offset = 0;
      for (int input : node.inputs) {
        placed = placed && trial.place(input, index, offset);
        offset += words_of(shapes[input]);
      }
      if (placed && writers_are_disjoint(shapes, trial_view, trial, trial.root(index))) {
        groups = trial;
        view = trial_view;
      }
    }
  }
}

// Whether `node` computes output row y from row y of its input.
bool reads_rows_one_to_one(const Node& node) {
  if (node.op == OpKind::Add) return true;
  return node.op == OpKind::Conv && node.kernel == 1 && node.stride == 1 && node.pad == 0;
}

// Per node: whether it is an upsample its readers' loads may perform (step
// 3): a 2x upsample of a computing node's output, no detect output, read only
// by nodes that take output row y from input row y, directly or through a
// concat view of which it is an input (no other view of its group is read).
std::vector<bool> find_foldable(const Graph& graph, const std::vector<TensorShape>& shapes, const std::vector<bool>& view,
                                ViewGroups& groups) {
  const size_t count = graph.nodes.size();
  const std::vector<bool> head_prediction = graph.head_predictions();
  std::vector<bool> foldable(count, false);
  for (size_t u = 0; u < count; ++u) {
    const Node& node = graph.nodes[u];
    if (node.op != OpKind::Upsample || head_prediction[u]) continue;
    const int up = static_cast<int>(u), source = node.inputs.at(0);
    const bool doubles = shapes[u].height == 2 * shapes[source].height && shapes[u].width == 2 * shapes[source].width;
    const bool source_computed = graph.nodes[source].op != OpKind::Input && !view[source] && !foldable[source];
    bool readers_fit = true;
    for (const Node& reader : graph.nodes) {
      for (int input : reader.inputs) {
        const bool holds_u = input == up || (view[input] && groups.root(input) == groups.root(up));
        if (!holds_u) continue;
        const std::vector<int>& parts = graph.nodes[input].inputs;
        const bool direct =
            input == up || (graph.nodes[input].op == OpKind::Concat && std::count(parts.begin(), parts.end(), up) == 1);
        const bool row_for_row = reads_rows_one_to_one(reader) || reader.op == OpKind::Concat;
        readers_fit = readers_fit && direct && row_for_row;
      }
    }
    foldable[u] = doubles && source_computed && readers_fit;
  }
  return foldable;
}

// Per node, the next node when this node hands its output to it (step 2), else -1.
std::vector<int> find_pairs(const Graph& graph, const std::vector<bool>& view, const std::vector<bool>& foldable) {
  const size_t count = graph.nodes.size();
  const std::vector<bool> head_prediction = graph.head_predictions();
  std::vector<int> readers(count, 0);
  for (const Node& node : graph.nodes) {
    for (int input : node.inputs) ++readers[input];
  }
  std::vector<int> forwarded_to(count, -1);
  for (size_t i = 0; i + 1 < count; ++i) {
    const Node& next = graph.nodes[i + 1];
    const bool computes = graph.nodes[i].op != OpKind::Input && !view[i] && !foldable[i];
    const bool handed_one = i > 0 && forwarded_to[i - 1] == static_cast<int>(i);
    const bool only_reader = readers[i] == 1 && std::count(next.inputs.begin(), next.inputs.end(), static_cast<int>(i)) == 1;
    if (computes && !handed_one && !head_prediction[i] && only_reader && reads_rows_one_to_one(next)) {
      forwarded_to[i] = static_cast<int>(i + 1);
    }
  }
  return forwarded_to;
}

// Per node: the last node reading it (a pair's first node reads until its
// second; the end of the program for detect outputs).
std::vector<int> last_reads(const Graph& graph, const std::vector<int>& forwarded_to) {
  const int end = static_cast<int>(graph.nodes.size());
  std::vector<int> last(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) last[i] = static_cast<int>(i);
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const int reader = std::max(static_cast<int>(i), forwarded_to[i]);
    for (int input : graph.nodes[i].inputs) last[input] = std::max(last[input], reader);
  }
  for (const DetectLevel& level : graph.levels) last[level.box_node] = last[level.class_node] = end;
  return last;
}

struct GroupSpan {
  int first = 0, last = 0;       // nodes: lifetime
  std::int64_t low = 0, high = 0;  // member offsets: [low, high)
  std::int64_t base = 0;           // address of offset `low`
};

// Per group (indexed by its root; unused entries for other nodes): lifetime
// and extent. A foldable upsample's input lives as long as its output.
std::vector<GroupSpan> group_spans(const Graph& graph, const std::vector<TensorShape>& shapes,
                                   const std::vector<int>& forwarded_to, const std::vector<bool>& foldable,
                                   ViewGroups& groups, std::vector<int>& roots) {
  const std::vector<int> last = last_reads(graph, forwarded_to);
  std::vector<GroupSpan> spans(graph.nodes.size());
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    const int node = static_cast<int>(i), top = groups.root(node);
    const std::int64_t low = groups.offset(node), high = low + words_of(shapes[i]);
    GroupSpan& span = spans[top];
    if (std::find(roots.begin(), roots.end(), top) == roots.end()) {
      roots.push_back(top);
      span = {node, last[i], low, high, 0};
    }
    span.first = std::min(span.first, node);
    span.last = std::max(span.last, last[i]);
    span.low = std::min(span.low, low);
    span.high = std::max(span.high, high);
  }
  for (size_t i = 0; i < graph.nodes.size(); ++i) {
    if (!foldable[i]) continue;
    GroupSpan& source = spans[groups.root(graph.nodes[i].inputs.at(0))];
    source.last = std::max(source.last, spans[groups.root(static_cast<int>(i))].last);
  }
  return spans;
}

// First fit in order of first node: each group takes the lowest base where it
// overlaps no group still live at its first node. Returns the words used.
std::int64_t place_groups(std::vector<GroupSpan>& spans, std::vector<int> roots) {
  std::stable_sort(roots.begin(), roots.end(), [&](int a, int b) { return spans[a].first < spans[b].first; });
  std::int64_t depth = 0;
  std::vector<int> placed;
  for (const int top : roots) {
    GroupSpan& span = spans[top];
    const std::int64_t size = span.high - span.low;
    auto collides = [&](std::int64_t base) {
      for (const int other : placed) {
        const GroupSpan& o = spans[other];
        const bool live = o.last >= span.first;
        if (live && base < o.base + (o.high - o.low) && o.base < base + size) return true;
      }
      return false;
    };
    std::vector<std::int64_t> candidates = {0};  // the lowest word, or right after a placed group
    for (const int other : placed) candidates.push_back(spans[other].base + spans[other].high - spans[other].low);
    std::sort(candidates.begin(), candidates.end());
    span.base = *std::find_if(candidates.begin(), candidates.end(), [&](std::int64_t base) { return !collides(base); });
    depth = std::max(depth, span.base + size);
    placed.push_back(top);
  }
  return depth;
}

// The groups' spans in bytes: each in slots of its widest member's
// code_bytes, rounded up to whole slots of the widest of all.
std::vector<GroupSpan> byte_spans(const std::vector<GroupSpan>& spans, const std::vector<int>& roots,
                                  const std::vector<int>& group_slot, int widest) {
  std::vector<GroupSpan> bytes = spans;
  for (const int top : roots) {
    GroupSpan& span = bytes[top];
    const std::int64_t size = (span.high - span.low) * group_slot[top];
    span.low *= group_slot[top];
    span.high = span.low + (size + widest - 1) / widest * widest;
  }
  return bytes;
}

}  // namespace

FmapPlan plan_feature_maps(const Graph& graph, const std::vector<TensorShape>& shapes,
                           const std::vector<bool>& concat_passes_inputs, const std::vector<int>& code_bytes) {
  const size_t count = graph.nodes.size();
  ViewGroups groups(count);
  FmapPlan plan;
  plan.view.assign(count, false);
  find_views(graph, shapes, concat_passes_inputs, groups, plan.view);
  plan.foldable = find_foldable(graph, shapes, plan.view, groups);
  plan.forwarded_to = find_pairs(graph, plan.view, plan.foldable);

  std::vector<int> roots;
  std::vector<GroupSpan> spans = group_spans(graph, shapes, plan.forwarded_to, plan.foldable, groups, roots);
  plan.depth = place_groups(spans, roots);
  std::vector<int> group_slot(count, 1);
  for (size_t i = 0; i < count && !code_bytes.empty(); ++i) {
    int& slot = group_slot[groups.root(static_cast<int>(i))];
    slot = std::max(slot, code_bytes[i]);
  }
  const int widest = *std::max_element(group_slot.begin(), group_slot.end());
  std::vector<GroupSpan> dram = byte_spans(spans, roots, group_slot, widest);
  plan.dram_bytes = place_groups(dram, roots);
  plan.base.resize(count);
  plan.dram_offset.resize(count);
  plan.slot_bytes.resize(count);
  for (size_t i = 0; i < count; ++i) {
    const int node = static_cast<int>(i), top = groups.root(node);
    const std::int64_t offset = groups.offset(node) - spans[top].low;
    plan.base[i] = spans[top].base + offset;
    plan.slot_bytes[i] = group_slot[top];
    plan.dram_offset[i] = dram[top].base + offset * group_slot[top];
    plan.total_words += words_of(shapes[i]);
  }
  return plan;
}

}  // namespace yq
