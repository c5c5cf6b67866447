// yq_dfl_decode: the box and score of one surviving anchor of the integer
// detect head, exactly docs/ARITHMETIC.md section 7 (steps 1-3) and
// compiler/ref/head_arithmetic.hpp:
//   for each side k (left, top, right, bottom) over its REG_MAX bin codes b_j:
//     m = max_j b_j, e_j = EXP[m - b_j] (0 when m - b_j >= exp_depth),
//     num = sum_j j e_j, den = sum_j e_j,
//     dist_k = (num * stride * 2^BOX_FRACTION_BITS + den / 2) / den  (truncating)
//   cx = (2 x + 1) * stride * 2^(BOX_FRACTION_BITS-1), cy likewise,
//   x1 = cx - dist_left, y1 = cy - dist_top, x2 = cx + dist_right, y2 = cy + dist_bottom,
//   score = SIGMOID[best_logit] (direct, or interpolated between two knots
//           when the table's knots are narrower than the codes, section 6).
//
// Control: with in_ready high, in_valid latches dfl_codes (the 4 x REG_MAX DFL codes), best_logit, cell_x,
// cell_y, stride and exp_depth; in_ready stays low until out_valid has
// pulsed for one cycle with x1, y1, x2, y2 (signed, 1/16 pixel) and score
// (unsigned, 2^-16), as wide as the detection record's fields (yq_format.vh
// YQ_DET_*). rst (synchronous, active high) returns to idle.
//
// Schedule, fixed: per side REG_MAX exp reads on consecutive cycles (the
// maximum is combinational), three cycles for the last data, then a
// restoring division of one quotient bit per cycle (Q_W = log2(REG_MAX) +
// STRIDE_W + BOX_FRACTION_BITS bits) and one to store it; then four cycles
// of sigmoid reads (knot and next knot) and one to output. Latency from the
// cycle in_valid is sampled to out_valid: 4 * (REG_MAX + Q_W + 4) + 6
// cycles (142 for YOLOv8: REG_MAX 16, STRIDE_W 6).
//
// Table ports (synchronous ROMs, one cycle: data of the address presented in
// cycle n is on the data input in cycle n + 1; addresses are registered):
//   exp_addr/exp_data   the level's exp table, entries 0 .. exp_depth-1
//                       (YQ_HEAD_VALUE_BITS unsigned); addresses
//                       >= exp_depth are never used
//   sig_addr/sig_data   the level's sigmoid table (YQ_HEAD_VALUE_BITS
//                       unsigned), 2^KNOT_W (+1 when interpolated) entries;
//                       the read of knot + 1 of a direct table may fall past
//                       its end and its data is not used
//
// Parameters: BIN_W (DFL code bits), REG_MAX (bins per side), LOGIT_W
// (class-logit code bits), KNOT_W (sigmoid table knot bits: LOGIT_W for a
// direct table, fewer for an interpolated one), CELL_W (cell index bits),
// STRIDE_W (stride bits). Number formats from yq_format.vh.
module yq_dfl_decode (clk, rst, in_valid, in_ready, dfl_codes, best_logit, cell_x, cell_y, stride, exp_depth,
                      exp_addr, exp_data, sig_addr, sig_data, out_valid, x1, y1, x2, y2, score);
    /* verilator lint_off UNUSEDPARAM */
    `include "yq_format.vh"
    /* verilator lint_on UNUSEDPARAM */
    parameter BIN_W    = 8;
    parameter REG_MAX  = 16;
    parameter LOGIT_W  = 8;
    parameter KNOT_W   = 8;
    parameter CELL_W   = YQ_PROG_OUT_W_WIDTH;
    parameter STRIDE_W = YQ_PROG_HEAD_STRIDE_WIDTH;

    localparam E_W      = YQ_HEAD_VALUE_BITS;
    localparam BF       = YQ_BOX_FRACTION_BITS;
    localparam COORD_W  = YQ_DET_X1_WIDTH;
    localparam SCORE_W  = YQ_DET_SCORE_WIDTH;
    localparam IDX_W    = $clog2(REG_MAX);
    localparam J_W      = IDX_W + 1;                    // counts 0 .. REG_MAX
    localparam DEN_W    = E_W + IDX_W;                  // sum of REG_MAX entries
    localparam NUM_W    = E_W + 2 * IDX_W;              // sum of j * e_j, j < REG_MAX
    localparam Q_W      = IDX_W + STRIDE_W + BF;        // dist < REG_MAX * stride * 2^BF
    localparam DIV_W    = NUM_W + STRIDE_W + BF + 1;    // num * stride * 2^BF + den / 2
    localparam QC_W     = $clog2(Q_W + 1);
    localparam STEP     = LOGIT_W - KNOT_W;             // interpolation step bits (0: direct)
    localparam FRAC_W   = (STEP > 0) ? STEP : 1;
    localparam BINS_W   = 4 * REG_MAX * BIN_W;

    input  wire                       clk;
    input  wire                       rst;
    input  wire                       in_valid;
    output wire                       in_ready;
    input  wire        [BINS_W-1:0]   dfl_codes;             // side k, bin j at [(k*REG_MAX + j)*BIN_W +: BIN_W]
    input  wire signed [LOGIT_W-1:0]  best_logit;
    input  wire        [CELL_W-1:0]   cell_x;
    input  wire        [CELL_W-1:0]   cell_y;
    input  wire        [STRIDE_W-1:0] stride;
    input  wire        [BIN_W:0]      exp_depth;
    output reg         [BIN_W-1:0]    exp_addr;
    input  wire        [E_W-1:0]      exp_data;
    output reg         [KNOT_W:0]     sig_addr;
    input  wire        [E_W-1:0]      sig_data;
    output reg                        out_valid;
    output reg  signed [COORD_W-1:0]  x1;
    output reg  signed [COORD_W-1:0]  y1;
    output reg  signed [COORD_W-1:0]  x2;
    output reg  signed [COORD_W-1:0]  y2;
    output reg         [SCORE_W-1:0]  score;

    localparam [2:0] S_IDLE = 3'd0, S_EXP = 3'd1, S_DIV = 3'd2, S_SIG = 3'd3, S_OUT = 3'd4;
    reg [2:0] state;
    assign in_ready = (state == S_IDLE);

    reg        [BINS_W-1:0]   codes_r;
    reg signed [LOGIT_W-1:0]  logit_r;
    reg        [CELL_W-1:0]   x_r;
    reg        [CELL_W-1:0]   y_r;
    reg        [STRIDE_W-1:0] stride_r;
    reg        [BIN_W:0]      depth_r;
    reg        [1:0]          side;
    reg        [J_W-1:0]      j;

    // The current side's maximum bin and the distance of bin j to it.
    reg signed [BIN_W-1:0] side_max;
    reg signed [BIN_W-1:0] bin_j;
    integer b;
    always @* begin
        side_max = codes_r[(side * REG_MAX) * BIN_W +: BIN_W];
        for (b = 1; b < REG_MAX; b = b + 1) begin
            if ($signed(codes_r[(side * REG_MAX + b) * BIN_W +: BIN_W]) > side_max) begin
                side_max = codes_r[(side * REG_MAX + b) * BIN_W +: BIN_W];
            end
        end
        bin_j = codes_r[(side * REG_MAX + {{(32-IDX_W){1'b0}}, j[IDX_W-1:0]}) * BIN_W +: BIN_W];
    end
    wire [BIN_W:0] distance = {side_max[BIN_W-1], side_max} - {bin_j[BIN_W-1], bin_j};   // 0 .. 2^BIN_W - 1

    // Read pipeline: address registered (p1), data on exp_data one cycle later (p2).
    reg             p1_valid, p2_valid, p1_zero, p2_zero;
    reg [IDX_W-1:0] p1_j, p2_j;
    reg [NUM_W-1:0] num;
    reg [DEN_W-1:0] den;
    wire [E_W-1:0]  e = p2_zero ? {E_W{1'b0}} : exp_data;

    // Restoring division.
    reg [DIV_W-1:0] rem;
    reg [DIV_W-1:0] divisor;
    reg [Q_W-1:0]   quotient;
    reg [QC_W-1:0]  bits_left;
    wire [DIV_W-1:0] dividend = ({{(DIV_W-NUM_W){1'b0}}, num} * {{(DIV_W-STRIDE_W){1'b0}}, stride_r} << BF)
                                + {{(DIV_W-DEN_W+1){1'b0}}, den[DEN_W-1:1]};
    reg [Q_W-1:0] dist0, dist1, dist2;

    // Sigmoid: offset = code - min_code, knot index and fraction.
    wire [LOGIT_W-1:0] offset = {~logit_r[LOGIT_W-1], logit_r[LOGIT_W-2:0]};
    wire [KNOT_W-1:0]  knot_index = offset[LOGIT_W-1:STEP];
    reg  [2:0]         sig_step;
    reg  [E_W-1:0]     knot;
    /* verilator lint_off UNUSEDSIGNAL */
    reg  [E_W-1:0]     next_knot;   // unused by a direct table
    /* verilator lint_on UNUSEDSIGNAL */
    wire signed [SCORE_W-1:0] sig_value;
    generate
        if (STEP > 0) begin : g_interpolated
            wire signed [E_W+1:0]          knot_diff = $signed({2'b00, next_knot}) - $signed({2'b00, knot});
            wire        [FRAC_W-1:0]       fraction = offset[FRAC_W-1:0];
            localparam PW = E_W + FRAC_W + 3;
            wire signed [PW-1:0]           product = knot_diff * $signed({1'b0, fraction});
            wire signed [PW-1:0]           half = $signed({{(PW-1){1'b0}}, 1'b1}) <<< (STEP - 1);
            wire signed [PW-1:0]           rounded = (product + half) >>> STEP;
            assign sig_value = $signed({{(SCORE_W-E_W){1'b0}}, knot}) + $signed({{(SCORE_W-PW){rounded[PW-1]}}, rounded});
        end else begin : g_direct
            assign sig_value = $signed({{(SCORE_W-E_W){1'b0}}, knot});
        end
    endgenerate

    // Anchor centre (2 x + 1) * stride * 2^(BF-1).
    wire [COORD_W-1:0] centre_x = ({{(COORD_W-CELL_W-1){1'b0}}, x_r, 1'b1} * {{(COORD_W-STRIDE_W){1'b0}}, stride_r}) << (BF - 1);
    wire [COORD_W-1:0] centre_y = ({{(COORD_W-CELL_W-1){1'b0}}, y_r, 1'b1} * {{(COORD_W-STRIDE_W){1'b0}}, stride_r}) << (BF - 1);
    wire [COORD_W-1:0] dist3_wide = {{(COORD_W-Q_W){1'b0}}, quotient};

    always @(posedge clk) begin
        out_valid <= 1'b0;
        p2_valid  <= p1_valid;
        p2_zero   <= p1_zero;
        p2_j      <= p1_j;
        p1_valid  <= 1'b0;
        if (rst) begin
            state    <= S_IDLE;
            p1_valid <= 1'b0;
            p2_valid <= 1'b0;
        end else begin
            case (state)
                S_IDLE: if (in_valid) begin
                    codes_r   <= dfl_codes;
                    logit_r  <= best_logit;
                    x_r      <= cell_x;
                    y_r      <= cell_y;
                    stride_r <= stride;
                    depth_r  <= exp_depth;
                    side     <= 2'd0;
                    j        <= {J_W{1'b0}};
                    num      <= {NUM_W{1'b0}};
                    den      <= {DEN_W{1'b0}};
                    state    <= S_EXP;
                end

                S_EXP: begin
                    if (j != REG_MAX[J_W-1:0]) begin
                        exp_addr <= distance[BIN_W-1:0];
                        p1_valid <= 1'b1;
                        p1_zero  <= (distance >= depth_r);
                        p1_j     <= j[IDX_W-1:0];
                        j        <= j + {{(J_W-1){1'b0}}, 1'b1};
                    end
                    if (p2_valid) begin
                        num <= num + {{(NUM_W-IDX_W){1'b0}}, p2_j} * {{(NUM_W-E_W){1'b0}}, e};
                        den <= den + {{(DEN_W-E_W){1'b0}}, e};
                    end
                    if (j == REG_MAX[J_W-1:0] && !p1_valid && !p2_valid) begin
                        rem       <= dividend;
                        divisor   <= {{(DIV_W-DEN_W){1'b0}}, den} << (Q_W - 1);
                        quotient  <= {Q_W{1'b0}};
                        bits_left <= Q_W[QC_W-1:0];
                        state     <= S_DIV;
                    end
                end

                S_DIV: begin
                    if (bits_left != {QC_W{1'b0}}) begin
                        if (rem >= divisor) begin
                            rem      <= rem - divisor;
                            quotient <= {quotient[Q_W-2:0], 1'b1};
                        end else begin
                            quotient <= {quotient[Q_W-2:0], 1'b0};
                        end
                        divisor   <= divisor >> 1;
                        bits_left <= bits_left - {{(QC_W-1){1'b0}}, 1'b1};
                    end else begin
                        case (side)
                            2'd0: dist0 <= quotient;
                            2'd1: dist1 <= quotient;
                            2'd2: dist2 <= quotient;
                            default: ;
                        endcase
                        side     <= side + 2'd1;
                        j        <= {J_W{1'b0}};
                        num      <= {NUM_W{1'b0}};
                        den      <= {DEN_W{1'b0}};
                        sig_step <= 3'd0;
                        state    <= (side == 2'd3) ? S_SIG : S_EXP;
                    end
                end

                S_SIG: begin   // knot, then next knot; their data two cycles later
                    sig_step <= sig_step + 3'd1;
                    case (sig_step)
                        3'd0: sig_addr <= {1'b0, knot_index};
                        3'd1: sig_addr <= {1'b0, knot_index} + {{KNOT_W{1'b0}}, 1'b1};
                        3'd2: knot <= sig_data;
                        default: begin
                            next_knot <= sig_data;
                            state     <= S_OUT;
                        end
                    endcase
                end

                default: begin   // S_OUT; quotient still holds the bottom distance
                    x1        <= $signed(centre_x - {{(COORD_W-Q_W){1'b0}}, dist0});
                    y1        <= $signed(centre_y - {{(COORD_W-Q_W){1'b0}}, dist1});
                    x2        <= $signed(centre_x + {{(COORD_W-Q_W){1'b0}}, dist2});
                    y2        <= $signed(centre_y + dist3_wide);
                    score     <= sig_value;
                    out_valid <= 1'b1;
                    state     <= S_IDLE;
                end
            endcase
        end
    end
endmodule
