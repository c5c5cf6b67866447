// yq_detect_head: the integer detect head and q_NMS of docs/ARITHMETIC.md
// sections 7-8 run from a feature-map memory: the controller that reads
// the head convolutions' outputs anchor by anchor and the chain
//   rtl/yq_score_filter.v -> rtl/yq_dfl_decode.v -> rtl/yq_qnms.v,
// with the detection list in a result memory. rtl/yq_top.v runs it on the
// band program's head bands in its scratch memory; rtl_tb/head_bench.cpp
// runs it alone on golden dumps.
//
// Configuration (cfg_valid, cfg_desc): before start, every head
// convolution's descriptor (field head != YQ_HEAD_NONE) is presented once;
// the head keeps, per level (head_level), its width out_w, head_stride and
// the table ids (head_lut: the sigmoid table of the class conv, the exp
// table of the box conv).
//
// A frame (start, one cycle; busy until done) reads the head convolutions'
// outputs in bands of rows, the levels in order and each level's rows in
// order, so the anchors reach q_NMS in anchor order (level, row, column):
//   1. the LUT directory entries of each level's two tables (base, depth);
//   2. per band (band_valid while band_ready; band_done pulses when it is
//      finished): band_level, its first row band_row0 and band_rows rows,
//      whose class logits (band_cls_base) and DFL codes (band_box_base)
//      are planar in the feature-map memory, band_plane words a channel
//      (at least band_rows * out_w): channel c of cell (y, x) at
//      base + c * band_plane + (y - band_row0) * out_w + x. The lanes'
//      address offsets k * band_plane take LANES cycles; then
//      each anchor's YQ_NUM_CLASSES class logits are read LANES per cycle into
//      the score filter with the level's logit threshold
//      (YQ_LEVEL_LOGIT_THRESHOLDS), the reads running on into the next anchor
//      while the filter decides; an anchor that passes pauses the class
//      reads, its 4 * YQ_REG_MAX DFL codes are read (LANES per cycle) and,
//      once the DFL decode is idle, loaded into it with the best logit, cell
//      and stride; the decode reads the level's exp and sigmoid tables
//      (exp_addr / sig_addr, LUT memory addresses) and hands box and score to
//      q_NMS as a candidate; the band ends when its last candidate is decoded;
//   3. finish (while band_ready): in_end to q_NMS, which ranks, suppresses and
//      writes the list (word 0 the count, words 1 .. count one record each,
//      yq_format.vh YQ_DET_*) into the result memory;
//   4. done (one cycle) with overflow: more than MAX_CAND candidates passed
//      (q_NMS dropped those beyond; the list is not the reference's).
// A level in one band reads the whole output of its convolutions in place
// (rtl/yq_top.v); the band program's head bands read the rows a load put in
// the scratch memory (docs/ARTIFACTS.md section 14).
// Cycles: ceil(YQ_NUM_CLASSES / LANES) per anchor, plus
// ceil(4 * YQ_REG_MAX / LANES) + 2 per passing anchor (more when the DFL
// decode is still busy), plus q_NMS's.
//
// Memory ports, all synchronous (data one cycle after the address):
// lutdir_addr / lutdir_data (the LUT directory), fm_addr / fm_data (LANES
// independent feature-map read lanes, lane k at [k*32 +: 32] and
// [k*YQ_FMAP_WIDTH +: YQ_FMAP_WIDTH]; codes sign-extended to YQ_FMAP_WIDTH
// as the engines write them; lane k reads class c + k, or DFL code i + k), exp_addr / exp_data and sig_addr / sig_data (the LUT memory).
// The result memory's read port: res_addr (0: the count word, i + 1:
// detection i) -> res_data one cycle later; det_count holds the last
// frame's count.
//
// Every model number comes from the run's yq_params.vh (thresholds, IoU,
// max_det, class count, REG_MAX, widths) or from the descriptors and the LUT
// directory (addresses, shapes, strides, tables). Parameters: MAX_CAND, the
// q_NMS candidate capacity; LANES, the feature-map read lanes (>= 1). rst: synchronous, active high.
module yq_detect_head (clk, rst, cfg_valid, cfg_desc, start, busy, done, overflow, band_valid, band_ready, band_level,
                       band_row0, band_rows, band_plane, band_box_base, band_cls_base, band_done, finish, lutdir_addr, lutdir_data,
                       fm_addr, fm_data, exp_addr, exp_data, sig_addr, sig_data, res_addr, res_data, det_count);
    /* verilator lint_off UNUSEDPARAM */
    `include "yq_format.vh"
    `include "yq_params.vh"
    /* verilator lint_on UNUSEDPARAM */
    parameter MAX_CAND = 1024;
    parameter LANES = 1;

    localparam FW       = YQ_FMAP_WIDTH;
    localparam DESC_W   = YQ_PROG_WORD_BITS;
    localparam NL       = YQ_NUM_LEVELS;
    localparam LV_W     = $clog2(NL + 1);
    localparam NC       = YQ_NUM_CLASSES;
    localparam TH_W     = YQ_LOGIT_THRESHOLD_BITS;
    localparam LOGIT_W  = TH_W - 1;                       // the widest class logit
    localparam KNOT_W   = LOGIT_W < YQ_LUT_DIRECT_MAX_BITS ? LOGIT_W : YQ_LUT_DIRECT_MAX_BITS;
    localparam BIN_W    = YQ_ACT_BITS;
    localparam REG_MAX  = YQ_REG_MAX;
    localparam NBOX     = 4 * REG_MAX;
    localparam NC_STEPS = (NC + LANES - 1) / LANES;       // class steps per anchor
    localparam CLASS_W  = $clog2(NC_STEPS * LANES) > 0 ? $clog2(NC_STEPS * LANES) : 1;
    localparam CELL_W   = YQ_PROG_OUT_W_WIDTH;
    localparam STRIDE_W = YQ_PROG_HEAD_STRIDE_WIDTH;
    localparam MAX_DET  = YQ_MAX_DETECTIONS;
    localparam IOU_MAX  = YQ_IOU_NUMERATOR > YQ_IOU_DENOMINATOR ? YQ_IOU_NUMERATOR : YQ_IOU_DENOMINATOR;
    localparam IOU_W    = $clog2(IOU_MAX + 1);
    localparam E_W      = YQ_HEAD_VALUE_BITS;
    localparam COORD_W  = YQ_DET_X1_WIDTH;
    localparam REC_W    = YQ_DET_WORD_BITS;
    localparam ADDR_W   = $clog2(MAX_DET + 1);
    localparam DET_W    = $clog2(MAX_DET + 1);
    localparam ANCHOR_W = YQ_DET_ANCHOR_WIDTH;
    localparam LUTID_W  = YQ_PROG_HEAD_LUT_WIDTH;
    localparam NB_STEPS = (NBOX + LANES - 1) / LANES;     // DFL code steps per candidate
    localparam BS_W     = $clog2(NB_STEPS + 1);
    localparam LANE_W   = $clog2(LANES + 1);
    localparam CI_W     = $clog2(NC + LANES + 1);

    initial begin
        if (FW < BIN_W || FW < LOGIT_W)
            $fatal(1, "yq_detect_head: feature-map words of %0d bits cannot hold %0d-bit codes", FW, BIN_W);
    end

    input  wire                  clk;
    input  wire                  rst;
    input  wire                  cfg_valid;
    /* verilator lint_off UNUSEDSIGNAL */   // the fields the head does not read
    input  wire [DESC_W-1:0]     cfg_desc;
    input  wire [YQ_LUT_DIR_WIDTH-1:0] lutdir_data;
    /* verilator lint_on UNUSEDSIGNAL */
    input  wire                  start;
    output wire                  busy;
    output reg                   done;
    output reg                   overflow;
    input  wire                  band_valid;
    output wire                  band_ready;
    input  wire [LV_W-1:0]       band_level;
    input  wire [CELL_W-1:0]     band_row0;
    input  wire [CELL_W-1:0]     band_rows;
    input  wire [31:0]           band_plane;
    input  wire [31:0]           band_box_base;
    input  wire [31:0]           band_cls_base;
    output reg                   band_done;
    input  wire                  finish;
    output wire [31:0]           lutdir_addr;
    output wire [LANES*32-1:0]   fm_addr;
    input  wire [LANES*FW-1:0]   fm_data;
    output wire [31:0]           exp_addr;
    input  wire [YQ_LUT_WIDTH-1:0] exp_data;
    output wire [31:0]           sig_addr;
    input  wire [YQ_LUT_WIDTH-1:0] sig_data;
    input  wire [ADDR_W-1:0]     res_addr;
    output reg  [REC_W-1:0]      res_data;
    output reg  [31:0]           det_count;

    // ------------------------------------------------------------------
    // Per-level configuration, from the head convolutions' descriptors.
    reg [CELL_W-1:0]   lv_w        [0:NL-1];
    reg [STRIDE_W-1:0] lv_stride   [0:NL-1];
    reg [LUTID_W-1:0]  lv_sig_lut  [0:NL-1];
    reg [LUTID_W-1:0]  lv_exp_lut  [0:NL-1];
    // From the LUT directory at the start of a frame.
    reg [31:0]         lv_sig_base [0:NL-1];
    reg [31:0]         lv_exp_base [0:NL-1];
    reg [BIN_W:0]      lv_exp_depth [0:NL-1];

    wire [31:0] cfg_head  = {{(32-YQ_PROG_HEAD_WIDTH){1'b0}}, cfg_desc[YQ_PROG_HEAD_LSB +: YQ_PROG_HEAD_WIDTH]};
    wire [31:0] cfg_level = {{(32-YQ_PROG_HEAD_LEVEL_WIDTH){1'b0}}, cfg_desc[YQ_PROG_HEAD_LEVEL_LSB +: YQ_PROG_HEAD_LEVEL_WIDTH]};
    wire [LV_W-1:0] cfg_l = cfg_level[LV_W-1:0];
    always @(posedge clk) begin
        if (cfg_valid && cfg_level < NL && (cfg_head == YQ_HEAD_CLASS || cfg_head == YQ_HEAD_BOX)) begin
            lv_w[cfg_l]      <= cfg_desc[YQ_PROG_OUT_W_LSB +: CELL_W];
            lv_stride[cfg_l] <= cfg_desc[YQ_PROG_HEAD_STRIDE_LSB +: STRIDE_W];
            if (cfg_head == YQ_HEAD_CLASS) lv_sig_lut[cfg_l] <= cfg_desc[YQ_PROG_HEAD_LUT_LSB +: LUTID_W];
            else lv_exp_lut[cfg_l] <= cfg_desc[YQ_PROG_HEAD_LUT_LSB +: LUTID_W];
        end
    end

    // ------------------------------------------------------------------
    // Controller.
    localparam [3:0] S_IDLE = 4'd0, S_DIR = 4'd1, S_CLS = 4'd2, S_BOX = 4'd3, S_LOAD = 4'd4, S_DRAIN = 4'd5,
                     S_END = 4'd6, S_NMS = 4'd7, S_OFF = 4'd8, S_WAIT = 4'd9;
    reg [3:0] state;
    assign busy = (state != S_IDLE);
    assign band_ready = (state == S_WAIT);

    // The band being read: its level (`level`, below), first row, rows, and
    // where its class and box outputs are (planar, b_plane = rows * width
    // words a channel); lane k's address offset k * b_plane and a step's
    // LANES * b_plane, summed up when the band starts.
    reg [CELL_W-1:0] b_row0, b_rows;
    reg [31:0]       b_cls_base, b_box_base, b_plane;
    reg [31:0]       lane_off [0:LANES-1];
    reg [31:0]       lane_step;

    // Directory reads: entry k = 2 * level + (0: sigmoid, 1: exp); the
    // address is combinational, its data arrives while dir_k is k + 1.
    reg  [LV_W:0]   dir_k;
    wire [LV_W-1:0] dir_l = dir_k[LV_W:1];
    assign lutdir_addr = ({{(32-LV_W){1'b0}}, dir_l} < NL) ? {{(32-LUTID_W){1'b0}}, dir_k[0] ? lv_exp_lut[dir_l] : lv_sig_lut[dir_l]} : 32'd0;
    wire [LV_W:0]   got_k = dir_k - 1'b1;
    wire [LV_W-1:0] got_l = got_k[LV_W:1];

    // The class-read generator: level, cell (gy counts the band's rows), the
    // first class of the step and the address of its logit (cls_ptr = base +
    // class * plane + cell).
    reg  [LV_W-1:0]     level;
    reg  [CELL_W-1:0]   gx, gy;
    reg  [31:0]         g_cell;          // y * w + x
    reg  [CI_W-1:0]     cls;
    reg  [31:0]         cls_ptr;
    reg  [ANCHOR_W-1:0] anchor;
    reg                 gen_done;      // every anchor's classes are read
    reg                 outstanding;   // an anchor's last class is read, its filter result not yet out
    // Lane offsets: off_k * b_plane (S_OFF).
    reg  [LANE_W-1:0]   off_k;
    reg  [31:0]         off_acc;

    // The anchor whose result is outstanding (or being decoded).
    reg  [LV_W-1:0]     r_level;
    reg  [CELL_W-1:0]   r_x, r_y;
    reg  [31:0]         r_cell;
    reg  [ANCHOR_W-1:0] r_anchor;


    // DFL code reads of a passing anchor.
    reg  [31:0]         box_ptr;
    reg  [BS_W-1:0]     box_issued, box_got;   // steps
    reg  [NBOX*BIN_W-1:0] codes;

    wire last_class = ({{(32-CI_W){1'b0}}, cls} + LANES >= NC);
    wire issue_cls  = (state == S_CLS) && !gen_done && !(last_class && outstanding);
    wire            in_box    = (state == S_BOX);
    wire [31:0]     lane_base = in_box ? box_ptr : cls_ptr;
    genvar gk;
    generate
        for (gk = 0; gk < LANES; gk = gk + 1) begin : g_lane
            // No address (all ones) in a cycle that reads nothing, nor for a
            // lane past the anchor's last class or DFL code (its word may lie
            // past the band, in a half a load is filling).
            wire [31:0] class_k = {{(32-CI_W){1'b0}}, cls} + gk;
            wire [31:0] code_k  = {{(32-BS_W){1'b0}}, box_issued} * LANES + gk;
            wire        reads   = in_box ? code_k < NBOX : issue_cls && class_k < NC;
            assign fm_addr[gk*32 +: 32] = reads ? lane_base + lane_off[gk] : 32'hffff_ffff;
        end
    endgenerate

    // Read tags: what the data on fm_data is (t_first: the class of lane 0;
    // t_bstep: the DFL code step).
    reg             t_cls, t_last, t_box;
    reg  [LV_W-1:0] t_level;
    reg  [CI_W-1:0] t_first;
    reg  [BS_W-1:0] t_bstep;
    always @(posedge clk) begin
        t_cls   <= issue_cls;
        t_last  <= issue_cls && last_class;
        t_level <= level;
        t_box   <= in_box;
        t_first <= cls;
        t_bstep <= box_issued;
    end
    // DFL code i comes on lane i % LANES of step i / LANES.
    generate
        for (gk = 0; gk < NBOX; gk = gk + 1) begin : g_code
            always @(posedge clk)
                if (t_box && {{(32-BS_W){1'b0}}, t_bstep} == gk / LANES)
                    codes[gk*BIN_W +: BIN_W] <= fm_data[(gk % LANES)*FW +: BIN_W];
        end
    endgenerate
    // The filter's lanes: a lane past the last class holds the minimum code.
    reg [LANES*LOGIT_W-1:0] f_logits;
    integer k;
    always @(*) begin
        for (k = 0; k < LANES; k = k + 1)
            f_logits[k*LOGIT_W +: LOGIT_W] = ({{(32-CI_W){1'b0}}, t_first} + k < NC) ? fm_data[k*FW +: LOGIT_W]
                                                                : {1'b1, {(LOGIT_W-1){1'b0}}};
    end

    // Score filter.
    wire                      f_valid, f_pass;
    wire        [CLASS_W-1:0] f_class;
    wire signed [LOGIT_W-1:0] f_logit;
    wire signed [TH_W-1:0]    f_threshold = YQ_LEVEL_LOGIT_THRESHOLDS[t_level * TH_W +: TH_W];
    yq_score_filter #(.LOGIT_W(LOGIT_W), .CLASS_W(CLASS_W), .LANES(LANES)) u_filter (
        .clk(clk), .rst(rst || state == S_IDLE), .in_valid(t_cls), .in_last(t_last), .logit(f_logits),
        .logit_threshold(f_threshold), .out_valid(f_valid), .best_class(f_class), .best_logit(f_logit),
        .pass(f_pass));

    // DFL decode, with the candidate's class, anchor and tables beside it.
    wire                        dfl_ready;
    wire                        load = (state == S_LOAD) && ({{(32-BS_W){1'b0}}, box_got} == NB_STEPS) && dfl_ready;
    reg  [CLASS_W-1:0]          p_class;
    reg signed [LOGIT_W-1:0]    p_logit;
    reg  [CLASS_W-1:0]          cand_class;
    reg  [ANCHOR_W-1:0]         cand_anchor;
    reg  [31:0]                 cand_exp_base, cand_sig_base;
    wire                        d_valid;
    wire signed [COORD_W-1:0]   d_x1, d_y1, d_x2, d_y2;
    wire [YQ_DET_SCORE_WIDTH-1:0] d_score;
    wire [BIN_W-1:0]            d_exp_addr;
    wire [KNOT_W:0]             d_sig_addr;
    yq_dfl_decode #(.BIN_W(BIN_W), .REG_MAX(REG_MAX), .LOGIT_W(LOGIT_W), .KNOT_W(KNOT_W), .CELL_W(CELL_W),
                    .STRIDE_W(STRIDE_W)) u_dfl (
        .clk(clk), .rst(rst), .in_valid(load), .in_ready(dfl_ready), .dfl_codes(codes), .best_logit(p_logit),
        .cell_x(r_x), .cell_y(r_y), .stride(lv_stride[r_level]), .exp_depth(lv_exp_depth[r_level]),
        .exp_addr(d_exp_addr), .exp_data(exp_data[E_W-1:0]), .sig_addr(d_sig_addr), .sig_data(sig_data[E_W-1:0]),
        .out_valid(d_valid), .x1(d_x1), .y1(d_y1), .x2(d_x2), .y2(d_y2), .score(d_score));
    assign exp_addr = cand_exp_base + {{(32-BIN_W){1'b0}}, d_exp_addr};
    assign sig_addr = cand_sig_base + {{(32-KNOT_W-1){1'b0}}, d_sig_addr};

    // q_NMS into the result memory.
    reg                   nms_end;
    wire                  q_we, q_done, q_overflow;
    wire [ADDR_W-1:0]     q_addr;
    wire [REC_W-1:0]      q_data;
    localparam [YQ_DET_SCORE_WIDTH-1:0] SCORE_THRESHOLD = YQ_SCORE_THRESHOLD;
    localparam [31:0] IOU_NUM32 = YQ_IOU_NUMERATOR, IOU_DEN32 = YQ_IOU_DENOMINATOR, MAX_DET32 = MAX_DET;
    localparam [IOU_W-1:0] IOU_NUM = IOU_NUM32[IOU_W-1:0], IOU_DEN = IOU_DEN32[IOU_W-1:0];
    localparam [DET_W-1:0] MAX_DET_V = MAX_DET32[DET_W-1:0];
    yq_qnms #(.MAX_CAND(MAX_CAND), .MAX_DET(MAX_DET), .COORD_W(COORD_W), .IOU_W(IOU_W)) u_qnms (
        .clk(clk), .rst(rst), .in_valid(d_valid), .in_end(nms_end), .in_x1(d_x1), .in_y1(d_y1), .in_x2(d_x2),
        .in_y2(d_y2), .in_score(d_score), .in_class({{(YQ_DET_CLASS_ID_WIDTH-CLASS_W){1'b0}}, cand_class}),
        .in_anchor(cand_anchor), .score_threshold(SCORE_THRESHOLD), .iou_num(IOU_NUM), .iou_den(IOU_DEN),
        .max_det(MAX_DET_V), .res_we(q_we), .res_addr(q_addr), .res_data(q_data), .done(q_done),
        .overflow(q_overflow));

    reg [REC_W-1:0] det_mem [0:MAX_DET];
    always @(posedge clk) begin
        if (q_we) det_mem[q_addr] <= q_data;
        res_data <= det_mem[res_addr];
    end

    wire [31:0] cell_last_x = {{(32-CELL_W){1'b0}}, lv_w[level]} - 32'd1;
    wire [31:0] cell_last_y = {{(32-CELL_W){1'b0}}, b_rows} - 32'd1;

    always @(posedge clk) begin
        done      <= 1'b0;
        band_done <= 1'b0;
        nms_end   <= 1'b0;
        if (rst) begin
            state     <= S_IDLE;
            overflow  <= 1'b0;
            det_count <= 32'd0;
        end else begin
            if (q_we && q_addr == {ADDR_W{1'b0}}) det_count <= q_data[31:0];
            if (load) begin
                cand_class    <= p_class;
                cand_anchor   <= r_anchor;
                cand_exp_base <= lv_exp_base[r_level];
                cand_sig_base <= lv_sig_base[r_level];
            end
            // The class stream: advance class, g_cell, level.
            if (issue_cls) begin
                if (last_class) begin
                    outstanding <= 1'b1;
                    r_level  <= level;
                    r_x      <= gx;
                    r_y      <= b_row0 + gy;
                    r_cell   <= g_cell;
                    r_anchor <= anchor;
                    anchor   <= anchor + 1'b1;
                    cls      <= {CI_W{1'b0}};
                    if ({{(32-CELL_W){1'b0}}, gx} != cell_last_x) begin
                        gx      <= gx + 1'b1;
                        g_cell  <= g_cell + 32'd1;
                        cls_ptr <= b_cls_base + g_cell + 32'd1;
                    end else if ({{(32-CELL_W){1'b0}}, gy} != cell_last_y) begin
                        gx      <= {CELL_W{1'b0}};
                        gy      <= gy + 1'b1;
                        g_cell  <= g_cell + 32'd1;
                        cls_ptr <= b_cls_base + g_cell + 32'd1;
                    end else begin
                        gen_done <= 1'b1;  // the band's last anchor
                    end
                end else begin
                    cls     <= cls + LANES[CI_W-1:0];
                    cls_ptr <= cls_ptr + lane_step;
                end
            end
            if (f_valid) outstanding <= 1'b0;
            if (t_box) box_got <= box_got + 1'b1;
            case (state)
                S_IDLE: if (start) begin
                    overflow    <= 1'b0;
                    dir_k       <= {(LV_W+1){1'b0}};
                    anchor      <= {ANCHOR_W{1'b0}};
                    state       <= S_DIR;
                end
                S_DIR: begin
                    dir_k <= dir_k + 1'b1;
                    if (dir_k != 0) begin
                        if (got_k[0]) begin
                            lv_exp_base[got_l]  <= lutdir_data[YQ_LUTDIR_BASE_LSB +: 32];
                            lv_exp_depth[got_l] <= lutdir_data[YQ_LUTDIR_DEPTH_LSB +: BIN_W + 1];
                        end else begin
                            lv_sig_base[got_l] <= lutdir_data[YQ_LUTDIR_BASE_LSB +: 32];
                        end
                    end
                    if ({{(31-LV_W){1'b0}}, dir_k} == 2 * NL) state <= S_WAIT;
                end
                // Between bands: the next band, or the end of the frame.
                S_WAIT: begin
                    if (finish) begin
                        state <= S_END;
                    end else if (band_valid) begin
                        level      <= band_level;
                        b_row0     <= band_row0;
                        b_rows     <= band_rows;
                        b_cls_base <= band_cls_base;
                        b_box_base <= band_box_base;
                        b_plane    <= band_plane;
                        off_k      <= {LANE_W{1'b0}};
                        off_acc    <= 32'd0;
                        state      <= S_OFF;
                    end
                end
                S_OFF: begin
                    lane_off[{{(32-LANE_W){1'b0}}, off_k}] <= off_acc;
                    if ({{(32-LANE_W){1'b0}}, off_k} == LANES - 1) begin
                        lane_step   <= off_acc + b_plane;
                        gx          <= {CELL_W{1'b0}};
                        gy          <= {CELL_W{1'b0}};
                        g_cell      <= 32'd0;
                        cls         <= {CI_W{1'b0}};
                        cls_ptr     <= b_cls_base;
                        gen_done    <= 1'b0;
                        outstanding <= 1'b0;
                        state       <= S_CLS;
                    end else begin
                        off_k   <= off_k + 1'b1;
                        off_acc <= off_acc + b_plane;
                    end
                end
                S_CLS: begin
                    if (f_valid && f_pass) begin
                        p_class    <= f_class;
                        p_logit    <= f_logit;
                        box_ptr    <= b_box_base + r_cell;
                        box_issued <= {BS_W{1'b0}};
                        box_got    <= {BS_W{1'b0}};
                        state      <= S_BOX;
                    end else if (gen_done && !outstanding) begin
                        state <= S_DRAIN;
                    end
                end
                S_BOX: begin
                    box_ptr    <= box_ptr + lane_step;
                    box_issued <= box_issued + 1'b1;
                    if ({{(32-BS_W){1'b0}}, box_issued} == NB_STEPS - 1) state <= S_LOAD;
                end
                S_LOAD: if (load) state <= S_CLS;
                S_DRAIN: if (dfl_ready && !d_valid) begin
                    band_done <= 1'b1;
                    state     <= S_WAIT;
                end
                S_END: begin
                    nms_end <= 1'b1;
                    state   <= S_NMS;
                end
                S_NMS: if (q_done) begin
                    overflow <= q_overflow;
                    done     <= 1'b1;
                    state    <= S_IDLE;
                end
                default: state <= S_IDLE;
            endcase
        end
    end
endmodule
