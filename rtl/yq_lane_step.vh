// The step of a set of read lanes, which an engine gives the scratch memory
// (rtl/yq_scratch.v) beside its lanes' addresses: each lane k that reads
// finds its word at base + offset(k), base the word lane 0 would read.
//   YQ_STEP_ONE        offset k: consecutive words (a stride-1 tap, an
//                      element-wise step, the detect head's banks)
//   YQ_STEP_TWO        offset 2k: every other word (a stride-2 tap)
//   YQ_STEP_PAIRS      offset k / 2: each word on two lanes (an upsample's
//                      output row from an even column)
//   YQ_STEP_PAIRS_ODD  offset (k + 1) / 2: the same from an odd column
// Included inside the modules that name a step.
localparam [1:0] YQ_STEP_ONE = 2'd0, YQ_STEP_TWO = 2'd1, YQ_STEP_PAIRS = 2'd2, YQ_STEP_PAIRS_ODD = 2'd3;
