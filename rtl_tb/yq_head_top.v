// yq_head_top: simulation top of the head bench (head_bench.cpp): the
// integer detect head's post-processing of docs/ARITHMETIC.md sections 7-8
// as one chain,
//   rtl/yq_score_filter.v -> rtl/yq_dfl_decode.v -> rtl/yq_qnms.v,
// fed by the bench with the head convolutions' output codes.
//
// Per anchor the bench streams its class logits (cls_valid, cls_last,
// cls_logit; the level's logit_threshold), holding the anchor's 4 x REG_MAX
// DFL codes, cell, stride, exp table depth and anchor index until one cycle
// after the last class: when the filter passes the anchor, the DFL decode
// latches them with the best logit, and the best class and the anchor
// index are kept beside it. Its box and score go straight into q_NMS as a
// candidate. The bench starts an anchor only while dfl_ready is high, and
// pulses nms_end when every anchor is through; q_NMS then writes the
// detection list (count in word 0) to the result port.
//
// Built per emission: Verilator compiles it with -I<dir holding the run's
// yq_params.vh> and -I../rtl, so the class-logit width (that of level 0;
// the bench checks every level has it), the DFL code width (the widest
// activation: codes are sign-extended), REG_MAX, the class count and the
// detection cap come from yq_params.vh. The tables stay in the bench (one
// exp and one sigmoid ROM port, data one cycle after the address).
// MAX_CAND (candidates q_NMS can hold) is a parameter.
module yq_head_top (clk, rst, cls_valid, cls_last, cls_logit, logit_threshold, dfl_codes, cell_x, cell_y, stride,
                    anchor, exp_depth, exp_addr, exp_data, sig_addr, sig_data, dfl_ready, nms_end,
                    score_threshold, iou_num, iou_den, max_det, candidate, res_we, res_addr, res_data, done, overflow);
    /* verilator lint_off UNUSEDPARAM */
    `include "yq_format.vh"
    `include "yq_params.vh"
    /* verilator lint_on UNUSEDPARAM */
    parameter MAX_CAND = 1024;
    localparam LOGIT_W  = YQ_LEVEL0_CLASS_BITS;
    localparam KNOT_W   = LOGIT_W < YQ_LUT_DIRECT_MAX_BITS ? LOGIT_W : YQ_LUT_DIRECT_MAX_BITS;
    localparam BIN_W    = YQ_ACT_BITS;
    localparam REG_MAX  = YQ_REG_MAX;
    localparam CLASS_W  = $clog2(YQ_NUM_CLASSES);
    localparam CELL_W   = YQ_PROG_OUT_W_WIDTH;
    localparam STRIDE_W = YQ_PROG_HEAD_STRIDE_WIDTH;
    localparam MAX_DET  = YQ_MAX_DETECTIONS;
    localparam IOU_W    = 10;                            // num, den <= 1000 (docs/ARITHMETIC.md section 8)
    localparam E_W      = YQ_HEAD_VALUE_BITS;
    localparam COORD_W  = YQ_DET_X1_WIDTH;
    localparam ADDR_W   = $clog2(MAX_DET + 1);
    localparam DET_W    = $clog2(MAX_DET + 1);

    input  wire                         clk;
    input  wire                         rst;
    input  wire                         cls_valid;
    input  wire                         cls_last;
    input  wire signed [LOGIT_W-1:0]    cls_logit;
    input  wire signed [LOGIT_W:0]      logit_threshold;
    input  wire [4*REG_MAX*BIN_W-1:0]   dfl_codes;
    input  wire [CELL_W-1:0]            cell_x;
    input  wire [CELL_W-1:0]            cell_y;
    input  wire [STRIDE_W-1:0]          stride;
    input  wire [YQ_DET_ANCHOR_WIDTH-1:0] anchor;
    input  wire [BIN_W:0]               exp_depth;
    output wire [BIN_W-1:0]             exp_addr;
    input  wire [E_W-1:0]               exp_data;
    output wire [KNOT_W:0]              sig_addr;
    input  wire [E_W-1:0]               sig_data;
    output wire                         dfl_ready;
    input  wire                         nms_end;
    input  wire [YQ_DET_SCORE_WIDTH-1:0] score_threshold;
    input  wire [IOU_W-1:0]             iou_num;
    input  wire [IOU_W-1:0]             iou_den;
    input  wire [DET_W-1:0]             max_det;
    output wire                         candidate;     // a candidate enters q_NMS this cycle
    output wire                         res_we;
    output wire [ADDR_W-1:0]            res_addr;
    output wire [YQ_DET_WORD_BITS-1:0]  res_data;
    output wire                         done;
    output wire                         overflow;

    wire                      f_valid, f_pass;
    wire        [CLASS_W-1:0] f_class;
    wire signed [LOGIT_W-1:0] f_logit;

    yq_score_filter #(.LOGIT_W(LOGIT_W), .CLASS_W(CLASS_W)) u_filter (
        .clk(clk), .rst(rst), .in_valid(cls_valid), .in_last(cls_last), .logit(cls_logit),
        .logit_threshold(logit_threshold), .out_valid(f_valid), .best_class(f_class), .best_logit(f_logit),
        .pass(f_pass));

    // The candidate's class and anchor, beside the DFL decode.
    wire load = f_valid && f_pass && dfl_ready;
    reg [CLASS_W-1:0]             cand_class;
    reg [YQ_DET_ANCHOR_WIDTH-1:0] cand_anchor;
    always @(posedge clk) begin
        if (load) begin
            cand_class  <= f_class;
            cand_anchor <= anchor;
        end
    end

    wire                        d_valid;
    wire signed [COORD_W-1:0]   d_x1, d_y1, d_x2, d_y2;
    wire [YQ_DET_SCORE_WIDTH-1:0] d_score;
    yq_dfl_decode #(.BIN_W(BIN_W), .REG_MAX(REG_MAX), .LOGIT_W(LOGIT_W), .KNOT_W(KNOT_W), .CELL_W(CELL_W),
                    .STRIDE_W(STRIDE_W)) u_dfl (
        .clk(clk), .rst(rst), .in_valid(load), .in_ready(dfl_ready), .dfl_codes(dfl_codes), .best_logit(f_logit),
        .cell_x(cell_x), .cell_y(cell_y), .stride(stride), .exp_depth(exp_depth), .exp_addr(exp_addr),
        .exp_data(exp_data), .sig_addr(sig_addr), .sig_data(sig_data), .out_valid(d_valid), .x1(d_x1), .y1(d_y1),
        .x2(d_x2), .y2(d_y2), .score(d_score));

    assign candidate = d_valid;

    yq_qnms #(.MAX_CAND(MAX_CAND), .MAX_DET(MAX_DET), .COORD_W(COORD_W), .IOU_W(IOU_W)) u_qnms (
        .clk(clk), .rst(rst), .in_valid(d_valid), .in_end(nms_end), .in_x1(d_x1), .in_y1(d_y1), .in_x2(d_x2),
        .in_y2(d_y2), .in_score(d_score), .in_class({{(YQ_DET_CLASS_ID_WIDTH-CLASS_W){1'b0}}, cand_class}),
        .in_anchor(cand_anchor), .score_threshold(score_threshold), .iou_num(iou_num), .iou_den(iou_den),
        .max_det(max_det), .res_we(res_we), .res_addr(res_addr), .res_data(res_data), .done(done),
        .overflow(overflow));
endmodule
