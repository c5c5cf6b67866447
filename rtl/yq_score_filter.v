// yq_score_filter: the class step of the integer detect head
// (docs/ARITHMETIC.md section 7, step 1) without a sigmoid. One anchor's
// class-logit codes stream in, class 0 first, LANES per cycle with in_valid
// (lane k of a step is class step * LANES + k, at logit[k*LOGIT_W +:
// LOGIT_W]; idle cycles allowed); in_last marks the anchor's last step,
// whose lanes past the last class must hold the minimum code (they then
// never win). It keeps the best class, the first with the largest code (a
// later class must be strictly greater to replace it: the lowest class wins
// ties, as arith::best_class; within a step the lanes are compared in class
// order), and one cycle after in_last presents
//   best_class, best_logit and pass = (best_logit >= logit_threshold)
// with out_valid for one cycle. pass is the same as "sigmoid score >
// score threshold" because the compiler's logit threshold is the first code
// whose table score exceeds the score threshold (section 7; yq_params.vh
// YQ_LEVEL<l>_LOGIT_THRESHOLD, one bit wider than the codes so that "no
// code passes" is max_code + 1). logit_threshold is sampled with each code.
//
// Parameters: LOGIT_W (class-logit code bits), CLASS_W (class index bits;
// the classes of one anchor, rounded up to LANES, number at most 2^CLASS_W),
// LANES (classes per step, >= 1). rst (synchronous, active high) clears out_valid and starts a new
// anchor.
module yq_score_filter (clk, rst, in_valid, in_last, logit, logit_threshold, out_valid, best_class, best_logit, pass);
    parameter LOGIT_W = 8;
    parameter CLASS_W = 7;
    parameter LANES = 1;
    localparam THRESH_W = LOGIT_W + 1;

    input  wire                       clk;
    input  wire                       rst;
    input  wire                       in_valid;
    input  wire                       in_last;
    input  wire [LANES*LOGIT_W-1:0]   logit;
    input  wire signed [THRESH_W-1:0] logit_threshold;
    output reg                        out_valid;
    output reg         [CLASS_W-1:0]  best_class;
    output reg  signed [LOGIT_W-1:0]  best_logit;
    output reg                        pass;

    // The running best of the classes seen so far of the current anchor.
    reg         [CLASS_W-1:0] class_index;   // class of lane 0 of the step now on `logit`
    reg         [CLASS_W-1:0] run_class;
    reg  signed [LOGIT_W-1:0] run_logit;

    // The best of the step (lanes in class order, strictly greater
    // replaces), then against the running best of the earlier steps.
    reg         [CLASS_W-1:0] step_class;
    reg  signed [LOGIT_W-1:0] step_logit;
    integer k;
    always @(*) begin
        step_class = class_index;
        step_logit = logit[LOGIT_W-1:0];
        for (k = 1; k < LANES; k = k + 1) begin
            if ($signed(logit[k*LOGIT_W +: LOGIT_W]) > step_logit) begin
                step_class = class_index + k[CLASS_W-1:0];
                step_logit = logit[k*LOGIT_W +: LOGIT_W];
            end
        end
    end

    wire first = (class_index == {CLASS_W{1'b0}});
    wire take  = first || (step_logit > run_logit);
    wire        [CLASS_W-1:0] next_class = take ? step_class : run_class;
    wire signed [LOGIT_W-1:0] next_logit = take ? step_logit : run_logit;
    wire signed [THRESH_W-1:0] next_logit_wide = {next_logit[LOGIT_W-1], next_logit};

    always @(posedge clk) begin
        out_valid <= 1'b0;
        if (rst) begin
            class_index <= {CLASS_W{1'b0}};
        end else if (in_valid) begin
            run_class <= next_class;
            run_logit <= next_logit;
            if (in_last) begin
                class_index <= {CLASS_W{1'b0}};
                out_valid   <= 1'b1;
                best_class  <= next_class;
                best_logit  <= next_logit;
                pass        <= (next_logit_wide >= logit_threshold);
            end else begin
                class_index <= class_index + LANES[CLASS_W-1:0];
            end
        end
    end
endmodule
