// yq_eltwise_engine: executes one slice, add, concat, max-pool or upsample
// layer descriptor (docs/ARTIFACTS.md sections 4 and 7, docs/ARITHMETIC.md
// section 5), LANES consecutive output codes per cycle (a max-pool group
// takes kernel^2 cycles, one tap each, or kernel * ceil(kernel / PT) in
// raster order, below, up to PT taps of a row each):
//   slice     Y(c, y, x) = X0(channel_begin + c, y, x)
//   add       Y = saturate(rounding_shift(X0 * Ma + X1 * Mb, S), out_bits)
//             with (Ma, S) = requant[requant_base], (Mb, S) = requant[requant_base + 1]
//   concat    input k's codes, in slot order, become
//             saturate(rounding_shift(q * M_k, S_k), out_bits), (M_k, S_k) = requant[requant_base + k]
//   max-pool  Y(c, y, x) = max of X0(c, y + ky - pad_top, x + kx - pad), ky, kx < kernel,
//             over the taps inside the input (padding never wins); stride 1;
//             pad_top = pad but in a band of the band program
//   upsample  Y(c, y, x) = X0(c, y / 2, x / 2)
// Every code goes through one datapath per lane, yq_add_unit (a * Ma + b * Mb,
// rounding shift S) and a saturation to the descriptor's out_bits: slice,
// max-pool and upsample use Ma = 1, Mb = 0, S = 0 (the identity), concat
// Mb = 0. Sizes and addresses come from the descriptor; the channel count of
// a concat input k > 0 from that input's own descriptor (read through
// prog_*). Outputs are written in NCHW order from out_base.
//
// Lanes. A step covers up to LANES consecutive outputs: for slice and add
// any LANES in raster order, for concat LANES of one input's region, for a
// max-pool whose input rows are as wide as its output rows (stride 1 with
// the padding that keeps the size, SPPF's) LANES of one channel in raster
// order (a channel of h x w outputs takes ceil(h * w / LANES) steps of
// ceil(kernel / PT) * kernel cycles: each cycle reads the taps (kx .. kx +
// PT - 1, ky) of every lane at once, as the LANES + PT - 1 consecutive words
// they fall on: set 0's lanes read the first LANES, lanes 0 .. PT - 2 of
// set 1 the rest, and lane l takes words l .. l + PT - 1 of them), for
// other max-pools and upsample LANES of one output row
// (a row of width w takes ceil(w / LANES) steps). Lanes past the end are
// masked.
//
// Memory ports (synchronous reads, one cycle, as rtl/yq_conv_engine.v: the
// data of an address presented in cycle n is on the data input in cycle n + 1):
//   fm_rd_*0/1  LANES feature-map read lanes each (lanes 1 only for add and
//               a raster max-pool's last PT - 1 words);
//               addresses 32 bits per lane, all ones (no address) for lanes that read nothing;
//               the reading lanes of set 1 read consecutive words, those of
//               set 0 too but for an upsample's, two lanes a word: its step
//               fm_rd_step0 (rtl/yq_lane_step.vh)
//   fm_wr_*     one write of up to LANES consecutive words: word l goes to
//               fm_wr_addr + l when fm_wr_mask[l]
//   rq_*        requant ROM ({shift, multiplier}); prog_* layer program ROM
// Control as yq_conv_engine: start (desc latched), busy, done (one cycle),
// error with done for a descriptor it cannot execute (another op, zero sizes,
// a wrong input count, out_bits outside 1..A_W, a max-pool stride other than 1,
// a height or width of 2^DIM_W or more).
//
// Parameters: LANES; A_W (feature-map word), MULT_W, SHIFT_W (requant word);
// DIM_W (the bits of the largest height or width it takes, yq_params.vh's
// YQ_MAX_DIM_BITS: a larger one is a descriptor error); POOL_TAPS (PT, the
// taps of a kernel row a raster max-pool cycle takes, 2 .. LANES + 1: 5
// takes SPPF's 5x5 pools a kernel row a cycle; each more is a max unit
// and two bound checks a lane).
// The descriptor layout (field positions and widths; input k and in_base k
// follow input0 and in_base0 at k field widths) and the op codes come from
// yq_format.vh.
module yq_eltwise_engine #(
    parameter LANES   = 1,
    parameter A_W     = 8,
    parameter MULT_W  = 16,
    parameter SHIFT_W = 6,
    parameter DIM_W   = 16,
    parameter POOL_TAPS = 5
) (clk, rst, start, desc, busy, done, error, prog_addr, prog_data, rq_addr, rq_data, fm_rd_addr0, fm_rd_data0,
   fm_rd_step0, fm_rd_addr1, fm_rd_data1, fm_wr_en, fm_wr_addr, fm_wr_mask, fm_wr_data);
    /* verilator lint_off UNUSEDPARAM */
    `include "yq_format.vh"
    `include "yq_lane_step.vh"
    /* verilator lint_on UNUSEDPARAM */
    localparam DESC_W = YQ_PROG_WORD_BITS;
    localparam NODE_W = YQ_PROG_INPUT0_WIDTH;       // a node index (input slot)
    localparam BASE_W = YQ_PROG_IN_BASE0_WIDTH;     // an input's feature-map address
    localparam MAX_IN = YQ_MAX_INPUTS;
    localparam KW = YQ_PROG_KERNEL_WIDTH;           // max-pool taps kx, ky
    localparam LANE_BITS = $clog2(LANES + 1);
    localparam XW = (DIM_W > LANE_BITS) ? DIM_W : LANE_BITS;   // output columns (and LANES)
    localparam YW = XW;                                        // output rows
    localparam NW = YQ_PROG_NUM_INPUTS_WIDTH;       // input count, concat input k
    localparam PT = (POOL_TAPS < 2) ? 2 : (POOL_TAPS > LANES + 1) ? LANES + 1 : POOL_TAPS;
    localparam NWIN = LANES + PT - 1;               // the words a raster max-pool cycle reads
    localparam [31:0] PT32 = PT;

    input  wire                      clk;
    input  wire                      rst;
    input  wire                      start;
    input  wire [DESC_W-1:0]         desc;
    output wire                      busy;
    output reg                       done;
    output reg                       error;

    output reg  [NODE_W-1:0]         prog_addr;
    input  wire [DESC_W-1:0]         prog_data;
    output reg  [31:0]               rq_addr;
    input  wire [MULT_W+SHIFT_W-1:0] rq_data;
    output reg  [LANES*32-1:0]       fm_rd_addr0;
    input  wire [LANES*A_W-1:0]      fm_rd_data0;
    output reg  [1:0]                fm_rd_step0;
    output reg  [LANES*32-1:0]       fm_rd_addr1;
    input  wire [LANES*A_W-1:0]      fm_rd_data1;
    output reg                       fm_wr_en;
    output reg  [31:0]               fm_wr_addr;
    output reg  [LANES-1:0]          fm_wr_mask;
    output reg  [LANES*A_W-1:0]      fm_wr_data;

    localparam [31:0] A_W32 = A_W;
    localparam [A_W-1:0] MIN_CODE = {1'b1, {(A_W-1){1'b0}}};
    localparam [MULT_W-1:0] MULT_ONE = {{(MULT_W-1){1'b0}}, 1'b1};

    localparam [3:0] S_IDLE = 4'd0, S_CHECK = 4'd1, S_MUL = 4'd2, S_REGION = 4'd3, S_RUN = 4'd4,
                     S_DRAIN = 4'd5, S_DONE = 4'd6, S_LANES = 4'd7;
    reg [3:0] state;
    assign busy = (state != S_IDLE);

    // Descriptor fields (each as wide as its yq_format.vh field) and the zero
    // extensions the 32-bit address arithmetic uses.
    reg [YQ_PROG_OP_WIDTH-1:0]            op;
    reg [NW-1:0]                          num_inputs;
    reg [KW-1:0]                          kernel;
    reg [YQ_PROG_STRIDE_WIDTH-1:0]        stride;
    reg [YQ_PROG_PAD_WIDTH-1:0]           pad;
    reg [YQ_PROG_PAD_TOP_WIDTH-1:0]       pad_top;
    reg [YQ_PROG_OUT_BITS_WIDTH-1:0]      out_bits;
    reg [YQ_PROG_CHANNEL_BEGIN_WIDTH-1:0] channel_begin;
    reg [YQ_PROG_IN_H_WIDTH-1:0]          in_h;
    reg [YQ_PROG_IN_W_WIDTH-1:0]          in_w;
    reg [YQ_PROG_OUT_C_WIDTH-1:0]         out_c;
    reg [YW-1:0]                          out_h;
    reg [XW-1:0]                          out_w;
    reg                                   too_big;   // a height or width with bits DIM_W and up
    reg [YQ_PROG_OUT_BASE_WIDTH-1:0]      out_base;
    reg [YQ_PROG_REQUANT_BASE_WIDTH-1:0]  rq_base;
    reg [MAX_IN*NODE_W-1:0]               inputs;
    reg [MAX_IN*BASE_W-1:0]               in_bases;
    wire [31:0] op_u       = {{(32-YQ_PROG_OP_WIDTH){1'b0}}, op};
    wire [31:0] num_u      = {{(32-NW){1'b0}}, num_inputs};
    wire [31:0] kernel_u   = {{(32-KW){1'b0}}, kernel};
    wire [31:0] stride_u   = {{(32-YQ_PROG_STRIDE_WIDTH){1'b0}}, stride};
    wire [31:0] pad_u      = {{(32-YQ_PROG_PAD_WIDTH){1'b0}}, pad};
    wire [31:0] pad_top_u  = {{(32-YQ_PROG_PAD_TOP_WIDTH){1'b0}}, pad_top};
    wire [31:0] out_bits_u = {{(32-YQ_PROG_OUT_BITS_WIDTH){1'b0}}, out_bits};
    wire [31:0] in_h_u     = {{(32-YQ_PROG_IN_H_WIDTH){1'b0}}, in_h};
    wire [31:0] in_w_u     = {{(32-YQ_PROG_IN_W_WIDTH){1'b0}}, in_w};
    wire [31:0] out_c_u    = {{(32-YQ_PROG_OUT_C_WIDTH){1'b0}}, out_c};
    wire [31:0] out_h_u    = {{(32-YW){1'b0}}, out_h};
    wire [31:0] out_w_u    = {{(32-XW){1'b0}}, out_w};
    wire [31:0] cb_u       = {{(32-YQ_PROG_CHANNEL_BEGIN_WIDTH){1'b0}}, channel_begin};
    wire is_slice = (op_u == YQ_OP_SLICE), is_add = (op_u == YQ_OP_ADD), is_concat = (op_u == YQ_OP_CONCAT),
         is_pool = (op_u == YQ_OP_MAXPOOL), is_up = (op_u == YQ_OP_UPSAMPLE);

    // Derived.
    reg [31:0] hw_out, hw_in, cb_off, pad_iw, total;
    reg [A_W-1:0] out_max, out_min;     // saturation bounds of out_bits (<= A_W), signed
    /* verilator lint_off UNUSEDSIGNAL */
    function automatic [A_W-1:0] code_bits(input [31:0] v);
        code_bits = v[A_W-1:0];
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */
    reg [2:0]  mstep;
    reg [31:0] mul_a, mul_b;
    wire [31:0] mul_p = mul_a * mul_b;

    // Requant words in use.
    reg [MULT_W-1:0]  mult_a, mult_b;
    reg [SHIFT_W-1:0] shift;

    // Concat region: input k, its size and first address.
    localparam SLOT_W = $clog2(MAX_IN);
    reg [NW-1:0] k;
    reg [2:0]  rstep;
    reg [YQ_PROG_OUT_C_WIDTH-1:0] region_c;
    reg [31:0] region_size, m;
    wire [SLOT_W-1:0] slot = k[SLOT_W-1:0];
    wire [31:0] base_k = in_bases[slot*BASE_W +: BASE_W];

    // Output counters and address state (of lane 0).
    localparam [31:0] LANES32 = LANES;
    reg [31:0] n;                       // output index
    reg [YW-1:0] oy;                    // output row
    reg [XW-1:0] ox;                    // output column
    reg [KW-1:0] kx, ky;                // max-pool tap
    reg [31:0] chan_base;               // in_base0 + (output channel) * hw_in
    reg [31:0] yoff;                    // max-pool: (oy - pad_top) * in_w; upsample: (oy / 2) * in_w
    reg [31:0] tap_row;                 // ky * in_w
    // A max-pool whose input rows are as wide as its output rows (stride 1,
    // the padding of a same-size pool: SPPF's) steps in raster order over a
    // channel, its lanes wrapping from row to row: then lane l's taps are
    // the words right after lane 0's, and each lane keeps its own output
    // column and row (lane_x, lane_y). Other max-pools and upsample step
    // within one output row.
    wire raster   = is_pool && in_w_u == out_w_u;
    wire row_mode = (is_pool || is_up) && !raster;
    localparam LXW = XW + 1, LYW = YW + 1;      // a lane's column and row (the row past the channel's end)
    reg  [31:0]          p;                     // raster: lane 0's output index in the channel
    reg  [LANES*LXW-1:0] lane_x, first_x;       // raster: each lane's output column, and at a channel's start
    reg  [LANES*LYW-1:0] lane_y, first_y;       //   (lane l at index l) and its row
    // S_LANES walks index l = 0 .. LANES as (walk_x, walk_y), column and
    // row; where it ends, LANES as columns and rows, is a step's advance.
    reg  [LXW-1:0]       walk_x;
    reg  [LYW-1:0]       walk_y;
    reg  [31:0]          walk_l;
    wire [31:0]          walk_x_u = {{(32-LXW){1'b0}}, walk_x};
    // The bounds every lane's column and row are checked against, shared by
    // the lanes: a tap (kx, ky) is inside the input when x + kx - pad and
    // y + ky - pad_top are, i.e. x_lo <= x < x_hi and y_lo <= y < y_hi
    // (signed); a step wraps a lane's column when x >= x_wrap.
    localparam PAD_BITS = (YQ_PROG_PAD_WIDTH > KW) ? YQ_PROG_PAD_WIDTH : KW;
    localparam BW = ((LXW > PAD_BITS) ? LXW : PAD_BITS) + 2;   // signed: a column or row, a size plus a pad
    wire signed [BW-1:0] x_lo = $signed({1'b0, pad_u[BW-2:0]}) - $signed({1'b0, kx_u[BW-2:0]});
    wire signed [BW-1:0] x_hi = $signed({1'b0, in_w_u[BW-2:0]}) + x_lo;
    wire signed [BW-1:0] y_lo = $signed({1'b0, pad_top_u[BW-2:0]}) - $signed({1'b0, ky_u[BW-2:0]});
    wire signed [BW-1:0] y_hi = $signed({1'b0, in_h_u[BW-2:0]}) + y_lo;
    wire        [31:0] x_wrap = out_w_u - walk_x_u;
    wire [31:0] oy_u = {{(32-YW){1'b0}}, oy};
    wire [31:0] ox_u = {{(32-XW){1'b0}}, ox};
    wire [31:0] kx_u = {{(32-KW){1'b0}}, kx};
    wire [31:0] ky_u = {{(32-KW){1'b0}}, ky};
    wire [31:0] iy = oy_u + ky_u - pad_top_u;   // max-pool tap row
    wire row_in = !iy[31] && iy < in_h_u;
    wire row_last_tap = raster ? kx_u + PT32 >= kernel_u : kx_u == kernel_u - 32'd1;   // the row's last step
    wire tap_last = !is_pool || (row_last_tap && ky_u == kernel_u - 32'd1);

    // Valid lanes of this step: up to the row's, the concat region's or the tensor's end.
    wire [31:0] limit = raster ? hw_out - p : row_mode ? out_w_u - ox_u : is_concat ? region_size - m : total - n;
    wire [31:0] nvalid = (limit < LANES32) ? limit : LANES32;
    wire elem_last = (total - n == nvalid);
    wire region_last = (region_size - m == nvalid);

    // Lane addresses for this tap: lane 0's on each set (shared), each lane
    // l reading them plus its step, l (an upsample's source column: (ox +
    // l) / 2 = ox / 2 + ((ox mod 2) + l) / 2). Set B reads an add's second
    // input, or a raster max-pool's words after set A's.
    localparam STEP_W = $clog2(LANES + 1) + 1;
    reg  [31:0]          base0, base1;
    always @* begin
        if (raster)         base0 = chan_base - pad_iw + p + tap_row + kx_u - pad_u;
        else if (is_slice)  base0 = in_bases[BASE_W-1:0] + cb_off + n;
        else if (is_add)    base0 = in_bases[BASE_W-1:0] + n;
        else if (is_concat) base0 = base_k + m;
        else if (is_up)     base0 = chan_base + yoff + (ox_u >> 1);
        else                base0 = chan_base + yoff + tap_row + ox_u + kx_u - pad_u;
        base1 = is_add ? in_bases[BASE_W +: BASE_W] + n : base0 + LANES32;
    end
    // A row-mode max-pool's tap column of lane l is ix0 + l: inside the
    // input when ix_lo <= l < ix_hi (signed).
    wire [31:0] ix0   = ox_u + kx_u - pad_u;
    wire [31:0] ix_lo = 32'd0 - ix0;
    wire [31:0] ix_hi = in_w_u - ix0;
    // Which words the lanes read: ok0 / okb0 on sets A / B; tok0, lane l's
    // taps j < PT (a raster max-pool's kx + j, else j = 0 only) inside the
    // input (a raster tap's column: lx + kx + j - pad, inside when
    // lx - x_lo + j >= 0 and x_hi - lx > j); win0, the raster window's words
    // some lane's tap reads.
    reg  [LANES*32-1:0]  addr0, addr1;
    reg  [LANES-1:0]     ok0, okb0, lane_on;
    reg  [LANES*PT-1:0]  tok0;
    reg  [NWIN-1:0]      win0;
    reg  [31:0]          off;
    reg  [STEP_W-1:0]    step;
    reg  signed [BW-1:0] lx, ly, dlo, dhi, tb, lo_t;
    reg                  row_ok;
    integer l, t;
    always @* begin
        win0 = {NWIN{1'b0}};
        tok0 = {LANES*PT{1'b0}};
        tb   = {BW{1'b0}};
        lo_t = {BW{1'b0}};
        for (l = 0; l < LANES; l = l + 1) begin
            off = l;
            step = is_up ? ({{(STEP_W-1){1'b0}}, ox[0]} + off[STEP_W-1:0]) >> 1 : off[STEP_W-1:0];
            lane_on[l] = off < nvalid;
            addr0[l*32 +: 32] = base0 + {{(32-STEP_W){1'b0}}, step};
            addr1[l*32 +: 32] = base1 + {{(32-STEP_W){1'b0}}, step};
            ok0[l] = lane_on[l];
            lx = $signed({{(BW-LXW){1'b0}}, lane_x[l*LXW +: LXW]});
            ly = $signed({{(BW-LYW){1'b0}}, lane_y[l*LYW +: LYW]});
            dlo = lx - x_lo;
            dhi = x_hi - lx;
            row_ok = lane_on[l] && ly >= y_lo && ly < y_hi;
            if (raster) begin
                for (t = 0; t < PT; t = t + 1) begin
                    tb   = t[BW-1:0];
                    lo_t = dlo + tb;
                    tok0[l*PT + t] = row_ok && kx_u + t < kernel_u && !lo_t[BW-1] && dhi > tb;
                    win0[l + t]    = win0[l + t] | tok0[l*PT + t];
                end
            end else begin
                if (is_pool) ok0[l] = lane_on[l] && row_in && $signed(off) >= $signed(ix_lo) && $signed(off) < $signed(ix_hi);
                tok0[l*PT] = ok0[l];
            end
        end
        if (raster) ok0 = win0[LANES-1:0];
    end
    // Set B's lanes 0 .. PT - 2 read the window's last words.
    /* verilator lint_off UNUSEDSIGNAL */
    wire [NWIN+LANES-1:0] win_b = {{LANES{1'b0}}, win0} >> LANES;
    /* verilator lint_on UNUSEDSIGNAL */
    always @* okb0 = raster ? win_b[LANES-1:0] : {LANES{1'b0}};

    always @* begin
        case (mstep)
            3'd0:    begin mul_a = out_h_u; mul_b = out_w_u; end
            3'd1:    begin mul_a = in_h_u;  mul_b = in_w_u;  end
            3'd2:    begin mul_a = cb_u;    mul_b = hw_in;   end
            3'd3:    begin mul_a = pad_top_u; mul_b = in_w_u; end
            default: begin mul_a = out_c_u; mul_b = hw_out;  end
        endcase
        if (state == S_REGION) begin
            mul_a = {{(32-YQ_PROG_OUT_C_WIDTH){1'b0}}, region_c};
            mul_b = hw_out;
        end
    end

    wire issue = (state == S_RUN);
    wire add_busy;

    // Pipeline: stage 1 (addresses), stage 2 (data, max), add unit (3), saturation.
    reg               v1, first1, last1, v2, first2, last2;
    reg [LANES*PT-1:0] tok1, tok2;
    reg [31:0]        waddr1, waddr2;
    reg [MULT_W-1:0]  ma1, mb1, ma2, mb2;
    reg [SHIFT_W-1:0] s1, s2;

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            state <= S_IDLE;
            error <= 1'b0;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    op            <= desc[YQ_PROG_OP_LSB +: YQ_PROG_OP_WIDTH];
                    num_inputs    <= desc[YQ_PROG_NUM_INPUTS_LSB +: NW];
                    kernel        <= desc[YQ_PROG_KERNEL_LSB +: KW];
                    stride        <= desc[YQ_PROG_STRIDE_LSB +: YQ_PROG_STRIDE_WIDTH];
                    pad           <= desc[YQ_PROG_PAD_LSB +: YQ_PROG_PAD_WIDTH];
                    pad_top       <= desc[YQ_PROG_PAD_TOP_LSB +: YQ_PROG_PAD_TOP_WIDTH];
                    out_bits      <= desc[YQ_PROG_OUT_BITS_LSB +: YQ_PROG_OUT_BITS_WIDTH];
                    channel_begin <= desc[YQ_PROG_CHANNEL_BEGIN_LSB +: YQ_PROG_CHANNEL_BEGIN_WIDTH];
                    in_h          <= desc[YQ_PROG_IN_H_LSB +: YQ_PROG_IN_H_WIDTH];
                    in_w          <= desc[YQ_PROG_IN_W_LSB +: YQ_PROG_IN_W_WIDTH];
                    out_c         <= desc[YQ_PROG_OUT_C_LSB +: YQ_PROG_OUT_C_WIDTH];
                    out_h         <= desc[YQ_PROG_OUT_H_LSB +: YW];
                    out_w         <= desc[YQ_PROG_OUT_W_LSB +: XW];
                    too_big       <= ((desc[YQ_PROG_OUT_H_LSB +: YQ_PROG_OUT_H_WIDTH] | desc[YQ_PROG_OUT_W_LSB +: YQ_PROG_OUT_W_WIDTH] |
                                       desc[YQ_PROG_IN_H_LSB +: YQ_PROG_IN_H_WIDTH] | desc[YQ_PROG_IN_W_LSB +: YQ_PROG_IN_W_WIDTH]) >> DIM_W) != 0;
                    inputs        <= desc[YQ_PROG_INPUT0_LSB +: MAX_IN*NODE_W];
                    out_base      <= desc[YQ_PROG_OUT_BASE_LSB +: YQ_PROG_OUT_BASE_WIDTH];
                    in_bases      <= desc[YQ_PROG_IN_BASE0_LSB +: MAX_IN*BASE_W];
                    rq_base       <= desc[YQ_PROG_REQUANT_BASE_LSB +: YQ_PROG_REQUANT_BASE_WIDTH];
                    error         <= 1'b0;
                    mstep         <= 3'd0;
                    state         <= S_CHECK;
                end

                S_CHECK: begin
                    if (!(is_slice || is_add || is_concat || is_pool || is_up) ||
                        out_c == 0 || out_h == 0 || out_w == 0 || in_h == 0 || in_w == 0 || too_big ||
                        out_bits == 0 || out_bits_u > A_W32 ||
                        (is_add && num_u != 32'd2) || (is_concat && (num_u == 32'd0 || num_u > MAX_IN)) ||
                        (!is_add && !is_concat && num_u != 32'd1) ||
                        (is_pool && (stride_u != 32'd1 || kernel == 0))) begin
                        error <= 1'b1;
                        state <= S_DONE;
                    end else begin
                        state <= S_MUL;
                    end
                end

                // hw_out, hw_in, channel_begin * hw_in, pad_top * in_w, out_c * hw_out.
                S_MUL: begin
                    case (mstep)
                        3'd0:    hw_out <= mul_p;
                        3'd1:    hw_in  <= mul_p;
                        3'd2:    cb_off <= mul_p;
                        3'd3:    pad_iw <= mul_p;
                        default: total  <= mul_p;
                    endcase
                    mstep <= mstep + 3'd1;
                    if (mstep == 3'd4) begin
                        k     <= 0;
                        rstep <= 3'd0;
                        state <= raster ? S_LANES : S_REGION;
                    end
                end

                // Raster max-pool: index l as column and row for each lane l,
                // then LANES (where the walk ends) for the steps.
                S_LANES: if (walk_l == LANES32) state <= S_REGION;

                // Per concat input (once for the other ops): its descriptor and
                // requant word, then its size.
                S_REGION: begin
                    rstep <= rstep + 3'd1;
                    if (rstep == 3'd3) region_size <= mul_p;
                    if (rstep == 3'd4) state <= S_RUN;
                end

                S_RUN: if (tap_last) begin
                    if (elem_last) state <= S_DRAIN;
                    else if (is_concat && region_last) begin
                        k     <= k + 1'b1;
                        rstep <= 3'd0;
                        state <= S_REGION;
                    end
                end

                S_DRAIN: if (!v1 && !v2 && !add_busy && !fm_wr_en) state <= S_DONE;

                S_DONE: begin
                    done  <= 1'b1;
                    state <= S_IDLE;
                end

                default: state <= S_IDLE;
            endcase
        end
    end

    // ROM reads of S_REGION (address in cycle rstep, data in rstep + 2): input
    // k's descriptor and requant word k (concat), the two words (add).
    always @(posedge clk) begin
        if (state == S_REGION && rstep == 3'd0) begin
            prog_addr <= inputs[slot*NODE_W +: NODE_W];
            rq_addr   <= rq_base + {{(32-NW){1'b0}}, k};
        end
        if (state == S_REGION && rstep == 3'd1) rq_addr <= rq_base + 32'd1;
        if (state == S_MUL) begin
            out_max <= code_bits((32'd1 << (out_bits_u - 32'd1)) - 32'd1);
            out_min <= code_bits(32'd0 - (32'd1 << (out_bits_u - 32'd1)));
        end
        if (state == S_REGION && rstep == 3'd2) begin
            region_c <= is_concat ? prog_data[YQ_PROG_OUT_C_LSB +: YQ_PROG_OUT_C_WIDTH] : out_c;
            if (is_concat || is_add) begin
                mult_a <= rq_data[MULT_W-1:0];
                shift  <= rq_data[MULT_W +: SHIFT_W];
            end else begin
                mult_a <= MULT_ONE;
                shift  <= {SHIFT_W{1'b0}};
            end
            mult_b <= {MULT_W{1'b0}};
        end
        if (state == S_REGION && rstep == 3'd3 && is_add) mult_b <= rq_data[MULT_W-1:0];
    end

    // Counters.
    integer j;
    always @(posedge clk) begin
        if (state == S_MUL) begin
            walk_x <= {LXW{1'b0}};
            walk_y <= {LYW{1'b0}};
            walk_l <= 32'd0;
        end else if (state == S_LANES && walk_l != LANES32) begin
            for (j = 0; j < LANES; j = j + 1) begin
                if (walk_l == j) begin
                    first_x[j*LXW +: LXW] <= walk_x;
                    first_y[j*LYW +: LYW] <= walk_y;
                end
            end
            walk_l <= walk_l + 32'd1;
            if (walk_x_u + 32'd1 == out_w_u) begin
                walk_x <= {LXW{1'b0}};
                walk_y <= walk_y + 1'b1;
            end else begin
                walk_x <= walk_x + 1'b1;
            end
        end
        if (state == S_REGION && rstep == 3'd0) begin
            p      <= 32'd0;
            lane_x <= first_x;
            lane_y <= first_y;
        end
        if (state == S_MUL && mstep == 3'd4) begin
            n         <= 32'd0;
            m         <= 32'd0;
            oy        <= 0;
            ox        <= 0;
            kx        <= 0;
            ky        <= 0;
            tap_row   <= 32'd0;
            chan_base <= in_bases[BASE_W-1:0];
            yoff      <= is_pool ? 32'd0 - pad_iw : 32'd0;
        end else if (state == S_REGION && rstep == 3'd4) begin
            m <= 32'd0;
        end else if (issue) begin
            if (is_pool && !tap_last) begin
                if (row_last_tap) begin
                    kx      <= 0;
                    ky      <= ky + 1'b1;
                    tap_row <= tap_row + in_w_u;
                end else begin
                    kx <= kx + (raster ? PT32[KW-1:0] : {{(KW-1){1'b0}}, 1'b1});
                end
            end else begin
                kx      <= 0;
                ky      <= 0;
                tap_row <= 32'd0;
                n       <= n + nvalid;
                m       <= m + nvalid;
                if (raster && hw_out - p == nvalid) begin   // the channel's last step
                    p         <= 32'd0;
                    lane_x    <= first_x;
                    lane_y    <= first_y;
                    chan_base <= chan_base + hw_in;
                end else if (raster) begin
                    p <= p + nvalid;
                    for (j = 0; j < LANES; j = j + 1) begin
                        if ({{(32-LXW){1'b0}}, lane_x[j*LXW +: LXW]} >= x_wrap) begin
                            lane_x[j*LXW +: LXW] <= lane_x[j*LXW +: LXW] - x_wrap[LXW-1:0];
                            lane_y[j*LYW +: LYW] <= lane_y[j*LYW +: LYW] + walk_y + 1'b1;
                        end else begin
                            lane_x[j*LXW +: LXW] <= lane_x[j*LXW +: LXW] + walk_x;
                            lane_y[j*LYW +: LYW] <= lane_y[j*LYW +: LYW] + walk_y;
                        end
                    end
                end else if (row_mode && out_w_u - ox_u == nvalid) begin   // the row's last step
                    ox <= 0;
                    if (oy_u == out_h_u - 32'd1) begin
                        oy        <= 0;
                        chan_base <= chan_base + hw_in;
                        yoff      <= is_pool ? 32'd0 - pad_iw : 32'd0;
                    end else begin
                        oy <= oy + 1'b1;
                        if (is_pool || oy[0]) yoff <= yoff + in_w_u;
                    end
                end else if (row_mode) begin
                    ox <= ox + LANES32[XW-1:0];
                end
            end
        end
    end

    // Stage 1: addresses.
    reg [LANES-1:0] on1, on2;
    always @(posedge clk) begin
        for (l = 0; l < LANES; l = l + 1) begin
            // A lane that reads nothing presents no address (all ones, past any memory).
            fm_rd_addr0[l*32 +: 32] <= ok0[l] ? addr0[l*32 +: 32] : 32'hffff_ffff;
            fm_rd_addr1[l*32 +: 32] <= ((is_add && lane_on[l]) || okb0[l]) ? addr1[l*32 +: 32] : 32'hffff_ffff;
        end
        fm_rd_step0 <= !is_up ? YQ_STEP_ONE : ox[0] ? YQ_STEP_PAIRS_ODD : YQ_STEP_PAIRS;
        tok1   <= tok0;
        on1    <= lane_on;
        first1 <= !is_pool || (kx == 0 && ky == 0);
        last1  <= tap_last;
        waddr1 <= out_base + n;
        ma1    <= mult_a;
        mb1    <= mult_b;
        s1     <= shift;
        tok2   <= tok1;
        on2    <= on1;
        first2 <= first1;
        last2  <= last1;
        waddr2 <= waddr1;
        ma2    <= ma1;
        mb2    <= mb1;
        s2     <= s1;
        if (rst) begin
            v1 <= 1'b0;
            v2 <= 1'b0;
        end else begin
            v1 <= issue;
            v2 <= v1;
        end
    end

    // Stage 2: running maximum per lane (a single tap for every op but max-pool,
    // up to PT for a raster max-pool's: lane l's tap j is word l + j of the
    // window, set A's words then set B's), then yq_add_unit (latency 3) and
    // the saturation to out_bits.
    wire              add_valid;
    wire [LANES-1:0]  add_valid_lanes;
    wire [LANES*A_W-1:0] add_out;
    wire [NWIN*A_W-1:0]  win_data = {fm_rd_data1[(PT-1)*A_W-1:0], fm_rd_data0};
    genvar g;
    generate
        for (g = 0; g < LANES; g = g + 1) begin : g_lane
            reg  [A_W-1:0] best, best_n;
            reg  [A_W-1:0] tap_code;
            integer        j2;
            always @* begin
                best_n = first2 ? MIN_CODE : best;
                for (j2 = 0; j2 < PT; j2 = j2 + 1) begin
                    tap_code = win_data[(g + j2)*A_W +: A_W];
                    if (tok2[g*PT + j2] && $signed(tap_code) > $signed(best_n)) best_n = tap_code;
                end
            end
            always @(posedge clk) begin
                if (v2) best <= best_n;
            end
            yq_add_unit #(
                .A_W    (A_W),
                .B_W    (A_W),
                .MULT_W (MULT_W),
                .SHIFT_W(SHIFT_W),
                .OUT_W  (A_W)
            ) u_add (
                .clk      (clk),
                .rst      (rst),
                .in_valid (v2 && last2),
                .a        (best_n),
                .b        (fm_rd_data1[g*A_W +: A_W]),
                .mult_a   (ma2),
                .mult_b   (mb2),
                .shift    (s2),
                .out_valid(add_valid_lanes[g]),
                .out      (add_out[g*A_W +: A_W])
            );
        end
    endgenerate
    assign add_valid = add_valid_lanes[0];

    reg add_v1, add_v2;
    reg [31:0]      waddr_a1, waddr_a2, waddr_a3;
    reg [LANES-1:0] on_a1, on_a2, on_a3;
    assign add_busy = add_v1 | add_v2 | add_valid;
    always @(posedge clk) begin
        waddr_a1 <= waddr2;
        waddr_a2 <= waddr_a1;
        waddr_a3 <= waddr_a2;
        on_a1    <= on2;
        on_a2    <= on_a1;
        on_a3    <= on_a2;
        if (rst) begin
            add_v1 <= 1'b0;
            add_v2 <= 1'b0;
        end else begin
            add_v1 <= v2 && last2;
            add_v2 <= add_v1;
        end
    end

    wire [LANES*A_W-1:0] sat_out;
    generate
        for (g = 0; g < LANES; g = g + 1) begin : g_sat
            // out_bits <= A_W: both bounds are A_W-bit codes.
            wire [A_W-1:0] code = add_out[g*A_W +: A_W];
            assign sat_out[g*A_W +: A_W] = ($signed(code) > $signed(out_max)) ? out_max
                                         : ($signed(code) < $signed(out_min)) ? out_min : code;
        end
    endgenerate
    always @(posedge clk) begin
        fm_wr_addr <= waddr_a3;
        fm_wr_mask <= on_a3;
        fm_wr_data <= sat_out;
        if (rst) fm_wr_en <= 1'b0;
        else     fm_wr_en <= add_valid;
    end

    wire unused_ok = ^{desc, prog_data, add_valid_lanes};
endmodule
