// yq_score_filter: the class step of the integer detect head
// (docs/ARITHMETIC.md section 7, step 1) without a sigmoid. One anchor's
// class-logit codes stream in, class 0 first, one per cycle with in_valid
// (idle cycles allowed); in_last marks the anchor's last class. It keeps the
// best class, the first with the largest code (a later class must be
// strictly greater to replace it: the lowest class wins ties, as
// arith::best_class), and one cycle after in_last presents
//   best_class, best_logit and pass = (best_logit >= logit_threshold)
// with out_valid for one cycle. pass is the same as "sigmoid score >
// score threshold" because the compiler's logit threshold is the first code
// whose table score exceeds the score threshold (section 7; yq_params.vh
// YQ_LEVEL<l>_LOGIT_THRESHOLD, one bit wider than the codes so that "no
// code passes" is max_code + 1). logit_threshold is sampled with each code.
//
// Parameters: LOGIT_W (class-logit code bits), CLASS_W (class index bits;
// the classes of one anchor number at most 2^CLASS_W). rst (synchronous, active high) clears out_valid and starts a new
// anchor.
module yq_score_filter (clk, rst, in_valid, in_last, logit, logit_threshold, out_valid, best_class, best_logit, pass);
    parameter LOGIT_W = 8;
    parameter CLASS_W = 7;
    localparam THRESH_W = LOGIT_W + 1;

    input  wire                       clk;
    input  wire                       rst;
    input  wire                       in_valid;
    input  wire                       in_last;
    input  wire signed [LOGIT_W-1:0]  logit;
    input  wire signed [THRESH_W-1:0] logit_threshold;
    output reg                        out_valid;
    output reg         [CLASS_W-1:0]  best_class;
    output reg  signed [LOGIT_W-1:0]  best_logit;
    output reg                        pass;

    // The running best of the classes seen so far of the current anchor.
    reg         [CLASS_W-1:0] class_index;   // class of the code now on `logit`
    reg         [CLASS_W-1:0] run_class;
    reg  signed [LOGIT_W-1:0] run_logit;

    wire first = (class_index == {CLASS_W{1'b0}});
    wire take  = first || (logit > run_logit);
    wire        [CLASS_W-1:0] next_class = take ? class_index : run_class;
    wire signed [LOGIT_W-1:0] next_logit = take ? logit : run_logit;
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
                class_index <= class_index + {{(CLASS_W-1){1'b0}}, 1'b1};
            end
        end
    end
endmodule
