// yq_conv_engine: executes one convolution layer descriptor (docs/ARTIFACTS.md
// section 4, op = conv) exactly as docs/ARTIFACTS.md section 7 and
// docs/ARITHMETIC.md sections 3, 4 and 6 define it:
//   acc = bias[o] + sum_{i, ky, kx} w(o, i, ky, kx) * X(i, y*stride + ky - pad_top, x*stride + kx - pad)
//   (a tap outside the input reads pad_code; pad_top = pad but in a band of
//   the band program, whose input starts at the band's first row),
//   pre = saturate(rounding_shift(acc * M[o], S[o]), pre_bits),
//   Y(o, y, x) = act_lut != none ? SiLU table value(pre) : pre.
// Every size, base address and width comes from the descriptor (and the LUT
// directory entry of its act_lut); nothing model specific is built in.
//
// Dataflow. The yq_mac_array is ROWS x COLS: row r is an output pixel, column c
// an output channel. The output is cut into tiles of COLS consecutive output
// channels (outer loop; a tile never crosses a weight row of YQ_WEIGHT_GROUP
// channels, so where COLS does not divide it the row's last tile is
// narrower) times ROWS consecutive output pixels in raster order
// (inner loop; a tile may span several output rows; a tile of a stride > 1
// convolution whose output rows are narrower than ROWS - 1 holds fewer, below). A tile takes T = in_c *
// kernel * kernel cycles, one tap (i, ky, kx) per cycle: ROWS activation reads
// (padded taps and pixels past the end masked to pad_code) and one read of
// that tap's COLS weights. With stride > 1, the lanes of one output row read
// words `stride` apart, which fall in distinct banks of a memory interleaved
// over 2 * ROWS banks, while two rows' lanes could share banks: the lanes of
// the tap's first output row read on lane set A (fm_rd_*), those of its
// second on lane set B (fm_rd_*_b, the banks' other port), and a tap whose
// reading lanes lie on n > 2 output rows takes ceil(n / 2) cycles, two rows
// each (the others feed 0) (docs/RTL.md, "The scratch memory"). So that no
// tile's lanes lie on more than two output rows, a stride > 1 convolution
// whose output width W is below ROWS - 1 takes tiles of P = W + d pixels
// (its lanes past P read nothing), d the largest W / 2^k (k >= 0, exact)
// with W + d <= ROWS, else 1 (tile_pixels_of): its tiles start at columns
// that are multiples of d, at most W - d, and end by the end of the next
// output row (20-wide rows on 32 rows: tiles of 30 pixels, one cycle a tap,
// where tiles of 32 took seven cycles a tap every five tiles). The finished ROWS x COLS sums are copied into a drain buffer, so the
// next tile accumulates while the buffer drains one output channel per cycle
// through ROWS yq_requant units and the table read, which write ROWS
// consecutive output codes (NCHW: one channel, ROWS raster pixels) per cycle.
// A tile whose last tap would overwrite a buffer still draining (T < ~COLS)
// waits.
// Twin tiles (TWIN, an even COLS): a channel tile of at most COLS / 2
// channels of a stride-1 convolution (a 16-channel layer or the 16-channel
// tail of an 80-channel one on 32 columns) puts its channels on both halves
// of the columns and gives the upper half the next ROWS pixels, read on lane
// set B (the banks' other port; a stride-1 tap's 2 * ROWS words are
// consecutive but for padding, so each set's words fall in distinct banks):
// such a tile covers 2 * ROWS pixels in the cycles of ROWS, and drains the
// first half's channels, then the second's (in_c * k * k >= COLS, so that
// those beats never hold up the next tile).
// Per channel tile, the COLS biases and requant words are read into
// registers (the array then holds the next tile's channels after the drain).
//
// Memory ports (all reads synchronous, one cycle: the data of an address
// presented in cycle n is on the data input in cycle n + 1; every address is
// a registered output, so from a counter to the data is two cycles):
//   fm_rd_*    ROWS independent feature-map read lanes (signed A_W-bit codes);
//              lane addresses are 32-bit word addresses, all ones (no address) for
//              lanes that read nothing (padding, pixels past the layer)
//   fm_rd_*_b  ROWS more read lanes, for the second output row of a
//              stride > 1 tap (all ones otherwise)
//   fm_rd_step both sets' step (rtl/yq_lane_step.vh): the reading lanes of a
//              set read consecutive words (stride 1) or every other word
//              (stride 2; a tap's lanes on one output row a set)
//   fm_wr_*    one write of up to ROWS consecutive words: word r goes to
//              fm_wr_addr + r when fm_wr_mask[r] (signed A_W-bit codes)
//   w_*        one weight read: the COLS words from w_addr (signed W_W-bit
//              codes, weight_mem layout: a row of YQ_WEIGHT_GROUP words holds
//              one tap of YQ_WEIGHT_GROUP consecutive output channels, and
//              the tile's channels are one slice of a row; words past the
//              row's end feed columns the tile does not use)
//   bias_*     bias ROM (ACC_W-bit two's complement, bias_mem layout)
//   rq_*       requant ROM ({shift, multiplier}, requant_mem layout)
//   lutdir_*   LUT directory ROM (lut_dir.hex entries), read once per layer
//   lut_*      ROWS table read lanes: lut_data0 = LUT[lut_addr],
//              lut_data1 = LUT[lut_addr + 1] (LUT_W-bit words, lut_mem layout;
//              SiLU codes sign-extended); the second word feeds the
//              interpolated tables of pre-activations wider than their knots
// A lane may address past the end of a memory (unused columns of the last
// channel tile, the knot after a direct table's last entry): the memory may
// return anything there, the result never uses it.
//
// Byte planes (PLANES = 1, docs/ARTIFACTS.md section 3.2): a descriptor
// whose in_bits exceed A_W reads an input stored as byte planes, stored
// channel 2i the high bytes of channel i, 2i + 1 the low bytes (in_c counts
// stored channels, the weights come twice a channel): the array's operand,
// A_W + 8 bits, is a high plane's word times 256 (signed) or a low plane's
// word as it is (unsigned), so each channel's two planes add up to its
// codes' terms; one whose out_bits exceed A_W drains each output channel
// twice, writing its codes' high bytes to stored channel 2o and their low
// bytes to 2o + 1, and takes no twin tiles. Codes wider than A_W + 8
// (or than A_W without PLANES) are a descriptor error.
//
// Control: pulse start for one cycle with desc valid (it is latched); busy is
// high until done pulses for one cycle. error (valid with done) reports a
// descriptor the engine cannot execute (zero sizes, codes wider than its operand, a height or width of
// 2^DIM_W or more, pre_bits outside 1..PRE_W,
// a table whose knots are wider than its index or, INTERP = 0, fewer than its
// entries); nothing is written then. It also reports a requant word of one
// of the layer's channels whose shift lies outside RQ_SHIFT_MIN ..
// RQ_SHIFT_MAX: the layer then runs to its end, its outputs undefined.
// rst (synchronous, active high) returns to idle.
//
// Parameters: ROWS, COLS (the array); TWIN (1: twin tiles); PLANES (1: byte
// planes, yq_params.vh's YQ_FMAP_PLANES); A_W (feature-map word), W_W (weight
// word), ACC_W (bias word), MULT_W, SHIFT_W (requant word), PRE_W (widest
// pre-activation code), LUT_W (table word), INTERP (0: every table is direct,
// its knots as many as its entries, as yq_params.vh's YQ_TABLE_INTERPOLATED
// = 0 says: the interpolation's multipliers and rounding are left out, and a
// table that interpolates is a descriptor error), RQ_SHIFT_MIN ..
// RQ_SHIFT_MAX (the requant shifts the requant units take, yq_params.vh's
// YQ_CONV_SHIFT_MIN/MAX: a narrower window, a narrower rounding shifter),
// DIM_W (the bits of the largest height or width it takes, yq_params.vh's
// YQ_MAX_DIM_BITS: its per-row coordinates are DIM_W + 2 bits), FM_ADDR_W (the bits of the
// feature-map word addresses the lanes compute: a descriptor whose input or
// output base does not fit is an error; the ports carry them zero-extended
// to 32 bits). The descriptor and LUT directory layouts (field positions and
// widths) come from yq_format.vh.
module yq_conv_engine #(
    parameter ROWS     = 4,
    parameter COLS     = 4,
    parameter TWIN     = 1,
    parameter A_W      = 8,
    parameter W_W      = 8,
    parameter ACC_W    = 32,
    parameter MULT_W   = 16,
    parameter SHIFT_W  = 6,
    parameter PRE_W    = 16,
    parameter LUT_W    = 16,
    parameter INTERP   = 1,
    parameter RQ_SHIFT_MIN = 0,
    parameter RQ_SHIFT_MAX = (1 << SHIFT_W) - 1,
    parameter DIM_W    = 16,
    parameter FM_ADDR_W = 32,
    parameter PLANES   = 0
) (clk, rst, start, desc, busy, done, error, lutdir_addr, lutdir_data, bias_addr, bias_data, rq_addr, rq_data,
   w_addr, w_data, fm_rd_addr, fm_rd_data, fm_rd_addr_b, fm_rd_data_b, fm_rd_step, fm_wr_en, fm_wr_addr, fm_wr_mask, fm_wr_data, lut_addr, lut_data0,
   lut_data1);
    /* verilator lint_off UNUSEDPARAM */
    `include "yq_format.vh"
    `include "yq_lane_step.vh"
    /* verilator lint_on UNUSEDPARAM */
    localparam DESC_W   = YQ_PROG_WORD_BITS;
    localparam LUTDIR_W = YQ_LUTDIR_WORD_BITS;
    localparam LUT_ID_W = YQ_PROG_ACT_LUT_WIDTH;

    input  wire                        clk;
    input  wire                        rst;
    input  wire                        start;
    input  wire [DESC_W-1:0]           desc;
    output wire                        busy;
    output reg                         done;
    output reg                         error;

    output reg  [LUT_ID_W-1:0]         lutdir_addr;
    input  wire [LUTDIR_W-1:0]         lutdir_data;
    output reg  [31:0]                 bias_addr;
    input  wire [ACC_W-1:0]            bias_data;
    output reg  [31:0]                 rq_addr;
    input  wire [MULT_W+SHIFT_W-1:0]   rq_data;
    output reg  [31:0]                 w_addr;
    input  wire [COLS*W_W-1:0]         w_data;
    output reg  [ROWS*32-1:0]          fm_rd_addr;
    input  wire [ROWS*A_W-1:0]         fm_rd_data_b;
    output reg  [ROWS*32-1:0]          fm_rd_addr_b;
    input  wire [ROWS*A_W-1:0]         fm_rd_data;
    output wire [1:0]                  fm_rd_step;
    output reg                         fm_wr_en;
    output reg  [31:0]                 fm_wr_addr;
    output reg  [ROWS-1:0]             fm_wr_mask;
    output reg  [ROWS*A_W-1:0]         fm_wr_data;
    output reg  [ROWS*32-1:0]          lut_addr;
    input  wire [ROWS*LUT_W-1:0]       lut_data0;
    input  wire [ROWS*LUT_W-1:0]       lut_data1;

    localparam KW = YQ_PROG_KERNEL_WIDTH;   // kernel taps kx, ky
    localparam ROWS_BITS = $clog2(ROWS + 1);
    localparam XW = (DIM_W > ROWS_BITS) ? DIM_W : ROWS_BITS;   // output columns (and ROWS)
    localparam CW = YQ_PROG_OUT_C_WIDTH;    // output channels
    localparam RQ_W  = MULT_W + SHIFT_W;
    localparam OP_W  = A_W + ((PLANES != 0) ? 8 : 0);             // a code: the array's activation operand
    localparam MAC_W = (ACC_W > OP_W + W_W) ? ACC_W : OP_W + W_W; // accumulator
    localparam D_W   = LUT_W + 1;                                 // knot difference
    localparam P_W   = D_W + PRE_W + 1;                           // difference * fraction
    localparam V_W   = (OP_W > PRE_W) ? OP_W : PRE_W;             // a pre-activation as written
    localparam AW    = FM_ADDR_W;
    // A lane's input column and row (signed: padding lies above and left of
    // the input; a tap inside the input is within the 16-bit sizes).
    localparam CO_W  = XW + 2;   // input coordinates, signed: -pad .. a row past the end
    localparam [31:0] ADDR_OUTSIDE = ~((32'd1 << AW) - 32'd1);   // base bits the lanes cannot address
    localparam PIX_W = $clog2(2 * ROWS + 1);                      // pixels left, capped at 2 * ROWS
    localparam [31:0] PIX_CAP32 = 2 * ROWS;
    localparam [PIX_W-1:0] PIX_CAP = PIX_CAP32[PIX_W-1:0];
    // Cycles from issuing a tile's last tap to the drain buffer capture, plus 1:
    // that tap may issue while at most this many drain beats are left.
    localparam DRAIN_SLACK = 5;
    localparam [31:0] ROWS32 = ROWS;
    localparam [31:0] COLS32 = COLS;
    localparam [31:0] PRE_W32 = PRE_W;
    localparam [31:0] RQ_SHIFT_MIN32 = RQ_SHIFT_MIN, RQ_SHIFT_MAX32 = RQ_SHIFT_MAX;
    localparam [31:0] INIT_LEN32 = (ROWS > COLS + 2) ? ROWS : COLS + 2;
    localparam [15:0] ROWS16 = ROWS32[15:0];
    localparam [15:0] COLS16 = COLS32[15:0];
    localparam [15:0] INIT_LEN = INIT_LEN32[15:0];
    localparam [LUT_ID_W-1:0] NO_LUT = {LUT_ID_W{1'b1}};
    localparam [31:0] GROUP32 = YQ_WEIGHT_GROUP;
    localparam LOG_GROUP = $clog2(YQ_WEIGHT_GROUP);
    localparam [31:0] GROUP_REM32 = GROUP32 % COLS32;   // the last tile's columns in a row, if not 0
    localparam HALF = COLS / 2;                          // a twin tile's channels at most
    localparam TWIN_ON = (TWIN != 0) && (COLS % 2 == 0);
    localparam [31:0] HALF32 = HALF;
    localparam [CW-1:0] HALF_C = HALF32[CW-1:0];
    initial begin
        if (COLS > YQ_WEIGHT_GROUP)
            $fatal(1, "yq_conv_engine: COLS %0d, a weight row holds %0d channels", COLS, YQ_WEIGHT_GROUP);
    end

    // The low bits of a 32-bit setup value: a lane coordinate, a lane
    // address, a pre-activation; and pixels left capped at 2 * ROWS.
    /* verilator lint_off UNUSEDSIGNAL */
    function automatic [CO_W-1:0] trunc_co(input [31:0] v);
        trunc_co = v[CO_W-1:0];
    endfunction
    function automatic [AW-1:0] trunc_addr(input [31:0] v);
        trunc_addr = v[AW-1:0];
    endfunction
    function automatic [PRE_W-1:0] trunc_pre(input [31:0] v);
        trunc_pre = v[PRE_W-1:0];
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */
    function automatic [PIX_W-1:0] cap_pixels(input [31:0] v);
        cap_pixels = (v > 2 * ROWS32) ? PIX_CAP : v[PIX_W-1:0];
    endfunction
    // A tile's pixels (P, header): ROWS, or for a stride > 1 convolution
    // whose output width w is below ROWS - 1, w + d (d the largest exact
    // w / 2^k with w + d <= ROWS, else 1).
    /* verilator lint_off UNUSEDSIGNAL */   // pixels: at most ROWS
    function automatic [ROWS_BITS-1:0] tile_pixels_of(input [YQ_PROG_OUT_W_WIDTH-1:0] out_w_v,
                                                      input [YQ_PROG_STRIDE_WIDTH-1:0] stride_f);
        reg [31:0] w, stride_v, d, pixels;
        reg        found;
        integer    k;
        begin
            w        = {{(32-YQ_PROG_OUT_W_WIDTH){1'b0}}, out_w_v};
            stride_v = {{(32-YQ_PROG_STRIDE_WIDTH){1'b0}}, stride_f};
            pixels = ROWS32;
            if (stride_v > 32'd1 && w + 32'd1 < ROWS32) begin
                d     = 32'd1;
                found = 1'b0;
                for (k = 0; k < ROWS_BITS; k = k + 1) begin
                    if (!found && (w & ((32'd1 << k) - 32'd1)) == 32'd0 && w + (w >> k) <= ROWS32) begin
                        d     = w >> k;
                        found = 1'b1;
                    end
                end
                pixels = w + d;
            end
            tile_pixels_of = pixels[ROWS_BITS-1:0];
        end
    endfunction
    /* verilator lint_on UNUSEDSIGNAL */

    localparam [3:0] S_IDLE = 4'd0, S_DIV = 4'd1, S_MUL = 4'd2, S_DERIVE = 4'd3, S_TINIT = 4'd4,
                     S_RUN = 4'd5, S_FLUSH = 4'd6, S_DONE = 4'd7;

    reg [3:0] state;
    assign busy = (state != S_IDLE);

    // ---------------------------------------------------------------------
    // Descriptor fields, latched at start (each as wide as its yq_format.vh
    // field), and the zero extensions the 32-bit address arithmetic uses.
    reg [KW-1:0]                         kernel;
    reg [YQ_PROG_STRIDE_WIDTH-1:0]       stride;
    reg [YQ_PROG_PAD_WIDTH-1:0]          pad;
    reg [YQ_PROG_PAD_TOP_WIDTH-1:0]      pad_top;
    reg [YQ_PROG_PRE_BITS_WIDTH-1:0]     pre_bits;
    reg [LUT_ID_W-1:0]                   act_lut;
    reg [YQ_PROG_PAD_CODE_WIDTH-1:0]     pad_code;
    reg [YQ_PROG_IN_C_WIDTH-1:0]         in_c;
    reg [YQ_PROG_IN_H_WIDTH-1:0]         in_h;
    reg [YQ_PROG_IN_W_WIDTH-1:0]         in_w;
    reg [CW-1:0]                         out_c;
    reg [YQ_PROG_OUT_H_WIDTH-1:0]        out_h;
    reg [XW-1:0]                         out_w;
    reg                                  too_big;    // a height or width with bits DIM_W and up
    reg                                  in_planes;  // the input's codes are wider than a word: byte planes
    reg                                  out_planes; // the output's codes are wider than a word: byte planes
    reg                                  too_wide;   // a code wider than the operand
    reg [YQ_PROG_OUT_BASE_WIDTH-1:0]     out_base;
    reg [YQ_PROG_IN_BASE0_WIDTH-1:0]     in_base;
    reg [YQ_PROG_WEIGHT_BASE_WIDTH-1:0]  weight_base;
    reg [YQ_PROG_BIAS_BASE_WIDTH-1:0]    bias_base;
    reg [YQ_PROG_REQUANT_BASE_WIDTH-1:0] rq_base;
    wire has_act = (act_lut != NO_LUT);
    wire [31:0] kernel_u   = {{(32-KW){1'b0}}, kernel};
    wire [31:0] stride_u   = {{(32-YQ_PROG_STRIDE_WIDTH){1'b0}}, stride};
    assign fm_rd_step = (stride_u > 32'd1) ? YQ_STEP_TWO : YQ_STEP_ONE;
    wire [31:0] pad_u      = {{(32-YQ_PROG_PAD_WIDTH){1'b0}}, pad};
    wire [31:0] pad_top_u  = {{(32-YQ_PROG_PAD_TOP_WIDTH){1'b0}}, pad_top};
    wire [31:0] pre_bits_u = {{(32-YQ_PROG_PRE_BITS_WIDTH){1'b0}}, pre_bits};
    wire [31:0] in_c_u     = {{(32-YQ_PROG_IN_C_WIDTH){1'b0}}, in_c};
    wire [31:0] in_h_u     = {{(32-YQ_PROG_IN_H_WIDTH){1'b0}}, in_h};
    wire [31:0] in_w_u     = {{(32-YQ_PROG_IN_W_WIDTH){1'b0}}, in_w};
    wire [31:0] out_c_u    = {{(32-CW){1'b0}}, out_c};
    wire [31:0] out_h_u    = {{(32-YQ_PROG_OUT_H_WIDTH){1'b0}}, out_h};
    wire [31:0] out_w_u    = {{(32-XW){1'b0}}, out_w};

    // The act_lut's LUT directory entry (lutdir_data, valid in S_DERIVE).
    wire [YQ_LUTDIR_BASE_WIDTH-1:0]       dir_base  = lutdir_data[YQ_LUTDIR_BASE_LSB +: YQ_LUTDIR_BASE_WIDTH];
    wire [YQ_LUTDIR_INDEX_BITS_WIDTH-1:0] dir_index = lutdir_data[YQ_LUTDIR_INDEX_BITS_LSB +: YQ_LUTDIR_INDEX_BITS_WIDTH];
    wire [YQ_LUTDIR_KNOT_BITS_WIDTH-1:0]  dir_knot  = lutdir_data[YQ_LUTDIR_KNOT_BITS_LSB +: YQ_LUTDIR_KNOT_BITS_WIDTH];
    wire [31:0] dir_index_u = {{(32-YQ_LUTDIR_INDEX_BITS_WIDTH){1'b0}}, dir_index};
    wire [31:0] dir_knot_u  = {{(32-YQ_LUTDIR_KNOT_BITS_WIDTH){1'b0}}, dir_knot};

    // Derived per-layer constants.
    reg [ROWS_BITS-1:0] tile_rows;              // P: a plain tile's pixels (header)
    reg [XW-1:0] div_q, div_rem;                // P = div_q * out_w + div_rem
    reg [3:0]  mstep;                           // shared setup multiplier step
    reg [31:0] taps, taps_m1, hw_in, hw_out, ow_s, s_iw, q_s, q_s_iw, rem_s, pad_iw, col_hw, rem_hw, group_taps, tk1;
    reg [CO_W-1:0] adv_ix, adv_ix_w, adv_iy, adv_iy_w;   // advance by P pixels
    reg [AW-1:0]   adv_ra, adv_ra_w;
    reg [CO_W-1:0] one_ix_w;                             // advance by one pixel (wrap case)
    reg [AW-1:0]   one_ra_w;
    reg [PRE_W-1:0] pre_max, pre_min;           // saturation bounds of pre_bits, signed
    reg [31:0] lut_base;
    reg [YQ_LUTDIR_INDEX_BITS_WIDTH-1:0] lut_step;  // index_bits - knot_bits
    reg [PRE_W-1:0] lut_half;                   // 2^(index_bits - 1)
    reg [PRE_W-1:0] lut_fmask;                  // 2^step - 1

    // Words of one output channel's planes: a byte-plane output's channel
    // takes two.
    wire [31:0] hw_plane = out_planes ? {hw_out[30:0], 1'b0} : hw_out;

    // Shared multiplier of the setup steps.
    reg  [31:0] mul_a, mul_b;
    wire [31:0] mul_p = mul_a * mul_b;

    always @* begin
        case (mstep)
            4'd0:    begin mul_a = in_c_u;          mul_b = kernel_u; end
            4'd1:    begin mul_a = tk1;             mul_b = kernel_u; end
            4'd2:    begin mul_a = in_h_u;          mul_b = in_w_u;   end
            4'd3:    begin mul_a = out_h_u;         mul_b = out_w_u;  end
            4'd4:    begin mul_a = out_w_u;         mul_b = stride_u; end
            4'd5:    begin mul_a = in_w_u;          mul_b = stride_u; end
            4'd6:    begin mul_a = {{(32-XW){1'b0}}, div_q};   mul_b = stride_u; end
            4'd7:    begin mul_a = q_s;             mul_b = in_w_u;   end
            4'd8:    begin mul_a = {{(32-XW){1'b0}}, div_rem}; mul_b = stride_u; end
            4'd9:    begin mul_a = in_w_u;          mul_b = pad_top_u; end
            4'd10:   begin mul_a = hw_plane;        mul_b = COLS32;          end
            4'd11:   begin mul_a = hw_plane;        mul_b = GROUP_REM32;     end
            default: begin mul_a = taps;            mul_b = GROUP32;         end
        endcase
    end

    // ---------------------------------------------------------------------
    // Tile counters.
    reg [15:0] init_k;                          // S_TINIT cycle
    reg [CW-1:0] o0;                            // first output channel of the channel tile
    // The tile's columns: COLS, or what is left of o0's weight row.
    wire [31:0]   row_left  = GROUP32 - {{(32-LOG_GROUP){1'b0}}, o0[LOG_GROUP-1:0]};
    wire          tile_full = (row_left >= COLS32);
    wire [31:0]   tile_cols = tile_full ? COLS32 : row_left;
    wire [CW-1:0] o0_next   = o0 + tile_cols[CW-1:0];
    wire [31:0]   chans_left = out_c_u - {{(32-CW){1'b0}}, o0};
    wire [31:0]   tile_chans = (chans_left < tile_cols) ? chans_left : tile_cols;
    // (with at least COLS taps, so that its drain of up to COLS beats never
    // holds up the next tile)
    wire          twin_tile  = TWIN_ON && stride_u == 32'd1 && tile_chans <= HALF32 && taps >= COLS32 && !out_planes;
    reg [CW-1:0] ncols;                         // output channels of the channel tile
    reg          twin;                          // the channel tile is a twin tile
    wire [ROWS_BITS-1:0] desc_tile_rows = tile_pixels_of(desc[YQ_PROG_OUT_W_LSB +: YQ_PROG_OUT_W_WIDTH],
                                                         desc[YQ_PROG_STRIDE_LSB +: YQ_PROG_STRIDE_WIDTH]);
    wire [31:0]  tile_rows32 = {{(32-ROWS_BITS){1'b0}}, tile_rows};
    wire [31:0]  tile_pixels = twin ? 2 * ROWS32 : tile_rows32;
    reg [31:0] w_group_base;                    // weight address of tap 0 of o0's row group
    reg [31:0] out_ch_base;                     // out_base + o0 * hw_out
    reg [31:0] pix_left;                        // output pixels from the tile's first on
    // min(pix_left, 2 * ROWS): one shared comparison, so that each lane's
    // test of the pixels left is PIX_W bits wide.
    wire [PIX_W-1:0] pix_cap   = cap_pixels(pix_left);
    wire [31:0]      pix_cap32 = {{(32-PIX_W){1'b0}}, pix_cap};
    reg [31:0] p0;                              // first pixel of the pixel tile
    reg [31:0] t;                               // tap index
    reg [KW-1:0] kx, ky;
    reg [31:0] chan_off, row_off;               // i * hw_in, i * hw_in + ky * in_w
    reg        chan_low;                        // i is odd: with a byte-plane input, a low plane

    // Row state: output column x, input column/row of the window's top left
    // (ix0 = x*stride - pad, iy0 = y*stride - pad) and ra = iy0*in_w + ix0.
    reg [ROWS*XW-1:0] row_x;
    reg [ROWS*CO_W-1:0] row_ix, row_iy;
    reg [ROWS*AW-1:0]   row_ra;
    reg [XW-1:0] cur_x;                         // pixel cursor of S_TINIT
    reg [CO_W-1:0] cur_ix, cur_iy;
    reg [AW-1:0]   cur_ra;
    reg [COLS*MAC_W-1:0] bias_regs;
    reg [COLS*RQ_W-1:0]  rq_regs;

    reg rq_shift_bad;                           // a channel's requant shift outside the window
    // Drain and in-flight tile.
    reg        inflight;                        // a last tap issued, its sums not yet captured
    reg [31:0] inflight_p0;
    reg [ROWS-1:0] inflight_mask, inflight_mask_b;   // b: a twin tile's second pixel group
    reg [CW-1:0] drain_left;                    // drain beats left
    reg [CW-1:0] drain_col;
    reg          drain_low;                     // a byte-plane output's beat of the low plane
    reg [31:0] drain_addr, drain_addr_b;
    reg [ROWS-1:0] drain_mask, drain_mask_b;
    reg [ROWS*COLS*MAC_W-1:0] shadow;

    wire                        mac_out_valid;
    wire [ROWS*COLS*MAC_W-1:0]  mac_acc;
    wire [ROWS-1:0]             tap_rows_valid;   // pixel tile rows inside the output
    wire [ROWS-1:0]             tap_rows_valid_b; // a twin tile's second group's
    reg                         v_d1, v_d2, v_d3, v_d4, v_d5;
    wire drain_busy;

    wire tap_last = (t == taps_m1);
    wire issue = (state == S_RUN) && !(tap_last && (inflight || drain_left > DRAIN_SLACK));
    // A tap issues in one cycle, or (stride > 1, its lanes on more than two
    // output rows) in one cycle per two output rows its reading lanes are
    // on: each such issue reads only those rows' lanes, the first row's on
    // set A and the second's on set B, and feeds 0 on the others, so each
    // port of the scratch memory's banks sees at most one address
    // (lane_serve below). step: the tap's last issue, which moves on to the
    // next tap.
    wire [ROWS-1:0] lane_serve, lane_zero, lane_b;
    wire tap_final;
    wire step = issue && tap_final;
    reg  [ROWS-1:0] lanes_done;                 // lanes of this tap read by its earlier issues
    integer l;
    wire beat  = (drain_left != 0);

    // ---------------------------------------------------------------------
    // Per-row combinational logic: advances and the addresses of this tap.
    wire [ROWS*XW-1:0] adv_x, adv2_x;
    wire [ROWS*CO_W-1:0] adv_ixv, adv_iyv, adv2_ixv, adv2_iyv;   // 2: by 2 * ROWS
    wire [ROWS*AW-1:0]   adv_rav, adv2_rav;
    wire [ROWS*32-1:0] tap_addr, tap_addr_b;
    wire [ROWS-1:0]    tap_ok, tap_ok_b;
    wire [31:0] kx_u = {{(32-KW){1'b0}}, kx};
    wire [31:0] ky_u = {{(32-KW){1'b0}}, ky};
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] tap_base32 = in_base + row_off + kx_u;   // bits AW and up: no lane reads them
    /* verilator lint_on UNUSEDSIGNAL */
    wire [AW-1:0] tap_base = tap_base32[AW-1:0];
    wire [CO_W-1:0] kx_c   = kx_u[CO_W-1:0];
    wire [CO_W-1:0] ky_c   = ky_u[CO_W-1:0];
    wire [CO_W-1:0] in_w_c = in_w_u[CO_W-1:0];
    wire [CO_W-1:0] in_h_c = in_h_u[CO_W-1:0];
    // A lane's word address on the 32-bit port, all ones when it reads nothing.
    function automatic [31:0] lane_addr(input ok, input [AW-1:0] ra);
        reg [31:0] sum;
        begin
            sum         = 32'd0;
            sum[AW-1:0] = tap_base + ra;
            lane_addr   = ok ? sum : 32'hffff_ffff;   // no read: no bank
        end
    endfunction

    // A row's state {x, ix, iy, ra} (its fields at RS_*) advanced by P
    // pixels, and whether a row in a state reads this tap (inside the input).
    localparam RS_W  = XW + 2 * CO_W + AW;
    localparam RS_IY = AW, RS_IX = AW + CO_W, RS_X = AW + 2 * CO_W;
    function automatic [RS_W-1:0] advance(input [RS_W-1:0] rs);
        reg [XW:0]   xs;
        reg [XW-1:0] xw;
        reg          wrap;
        begin
            xs      = {1'b0, rs[RS_X +: XW]} + {1'b0, div_rem};
            wrap    = (xs >= {1'b0, out_w});
            xw      = xs[XW-1:0] - out_w;   // < out_w when wrap
            advance = {wrap ? xw : xs[XW-1:0], rs[RS_IX +: CO_W] + (wrap ? adv_ix_w : adv_ix),
                       rs[RS_IY +: CO_W] + (wrap ? adv_iy_w : adv_iy), rs[0 +: AW] + (wrap ? adv_ra_w : adv_ra)};
        end
    endfunction
    function automatic tap_inside(input [CO_W-1:0] ix, input [CO_W-1:0] iy);
        reg [CO_W-1:0] tix, tiy;
        begin
            tix        = ix + kx_c;
            tiy        = iy + ky_c;
            tap_inside = !tix[CO_W-1] && (tix < in_w_c) && !tiy[CO_W-1] && (tiy < in_h_c);
        end
    endfunction

    genvar r, c;
    generate
        for (r = 0; r < ROWS; r = r + 1) begin : g_row
            wire [RS_W-1:0] rs    = {row_x[r*XW +: XW], row_ix[r*CO_W +: CO_W], row_iy[r*CO_W +: CO_W],
                                     row_ra[r*AW +: AW]};
            wire [RS_W-1:0] next  = advance(rs);
            assign {adv_x[r*XW +: XW], adv_ixv[r*CO_W +: CO_W], adv_iyv[r*CO_W +: CO_W], adv_rav[r*AW +: AW]} = next;
            assign tap_ok[r] = tap_rows_valid[r] && tap_inside(rs[RS_IX +: CO_W], rs[RS_IY +: CO_W]);
            assign tap_addr[r*32 +: 32] = lane_addr(tap_ok[r], rs[0 +: AW]);

            // A twin tile's second group: row r's pixel ROWS further (the
            // state advanced above), and the advance by 2 * ROWS.
            if (TWIN_ON) begin : g_twin
                assign {adv2_x[r*XW +: XW], adv2_ixv[r*CO_W +: CO_W], adv2_iyv[r*CO_W +: CO_W], adv2_rav[r*AW +: AW]} =
                    advance(next);
                assign tap_ok_b[r] = tap_rows_valid_b[r] && tap_inside(next[RS_IX +: CO_W], next[RS_IY +: CO_W]);
                assign tap_addr_b[r*32 +: 32] = lane_addr(tap_ok_b[r], next[0 +: AW]);
            end else begin : g_no_twin
                assign {adv2_x[r*XW +: XW], adv2_ixv[r*CO_W +: CO_W], adv2_iyv[r*CO_W +: CO_W], adv2_rav[r*AW +: AW]} = next;
                assign tap_ok_b[r] = 1'b0;
                assign tap_addr_b[r*32 +: 32] = 32'hffff_ffff;
            end
        end
    endgenerate

    // The lanes this issue reads: the tap's lanes not read yet (pending) on
    // the first output row holding one (set A) and on the next output row
    // holding one (set B; a lane whose x is 0 starts a row); all of them on
    // set A when stride is 1 (its rows follow each other in the scratch
    // memory, so no two lanes share a bank). A lane not read now feeds 0
    // (pad_code on the tap's last issue when it is padding).
    wire [ROWS-1:0] pending = tap_ok & ~lanes_done;
    wire            split   = (stride_u > 32'd1);
    reg  [ROWS-1:0] serve_a, serve_b;
    reg             seen;                       // a pending lane on the current row
    reg  [1:0]      rows_seen;                  // rows with a pending lane before it (2: two or more)
    always @* begin
        seen      = 1'b0;
        rows_seen = 2'd0;
        for (l = 0; l < ROWS; l = l + 1) begin
            if (split && l > 0 && row_x[l*XW +: XW] == 0 && seen) begin
                if (rows_seen != 2'd2) rows_seen = rows_seen + 2'd1;
                seen = 1'b0;
            end
            serve_a[l] = pending[l] && rows_seen == 2'd0;
            serve_b[l] = pending[l] && rows_seen == 2'd1;
            seen = seen | pending[l];
        end
    end
    assign lane_serve = serve_a | serve_b;
    assign lane_b     = serve_b;
    assign tap_final = ((pending & ~lane_serve) == {ROWS{1'b0}});
    assign lane_zero = ~lane_serve & (tap_ok | {ROWS{!tap_final}});
    always @(posedge clk) begin
        if (state != S_RUN || step) lanes_done <= {ROWS{1'b0}};
        else if (issue)             lanes_done <= lanes_done | lane_serve;
    end

    // One-pixel step of the cursor.
    wire [XW:0] cur_xs   = {1'b0, cur_x} + 1'b1;
    wire        cur_wrap = (cur_xs >= {1'b0, out_w});

    // ---------------------------------------------------------------------
    // Control.
    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            state    <= S_IDLE;
            error    <= 1'b0;
            inflight <= 1'b0;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    kernel      <= desc[YQ_PROG_KERNEL_LSB +: KW];
                    stride      <= desc[YQ_PROG_STRIDE_LSB +: YQ_PROG_STRIDE_WIDTH];
                    pad         <= desc[YQ_PROG_PAD_LSB +: YQ_PROG_PAD_WIDTH];
                    pad_top     <= desc[YQ_PROG_PAD_TOP_LSB +: YQ_PROG_PAD_TOP_WIDTH];
                    pre_bits    <= desc[YQ_PROG_PRE_BITS_LSB +: YQ_PROG_PRE_BITS_WIDTH];
                    act_lut     <= desc[YQ_PROG_ACT_LUT_LSB +: LUT_ID_W];
                    pad_code    <= desc[YQ_PROG_PAD_CODE_LSB +: YQ_PROG_PAD_CODE_WIDTH];
                    in_c        <= desc[YQ_PROG_IN_C_LSB +: YQ_PROG_IN_C_WIDTH];
                    in_h        <= desc[YQ_PROG_IN_H_LSB +: YQ_PROG_IN_H_WIDTH];
                    in_w        <= desc[YQ_PROG_IN_W_LSB +: YQ_PROG_IN_W_WIDTH];
                    out_c       <= desc[YQ_PROG_OUT_C_LSB +: CW];
                    out_h       <= desc[YQ_PROG_OUT_H_LSB +: YQ_PROG_OUT_H_WIDTH];
                    out_w       <= desc[YQ_PROG_OUT_W_LSB +: XW];
                    in_planes   <= PLANES != 0 && desc[YQ_PROG_IN_BITS_LSB +: YQ_PROG_IN_BITS_WIDTH] > A_W;
                    out_planes  <= PLANES != 0 && desc[YQ_PROG_OUT_BITS_LSB +: YQ_PROG_OUT_BITS_WIDTH] > A_W;
                    too_wide    <= desc[YQ_PROG_IN_BITS_LSB +: YQ_PROG_IN_BITS_WIDTH] > OP_W ||
                                   desc[YQ_PROG_OUT_BITS_LSB +: YQ_PROG_OUT_BITS_WIDTH] > OP_W;
                    too_big     <= ((desc[YQ_PROG_OUT_H_LSB +: YQ_PROG_OUT_H_WIDTH] | desc[YQ_PROG_OUT_W_LSB +: YQ_PROG_OUT_W_WIDTH] |
                                     desc[YQ_PROG_IN_H_LSB +: YQ_PROG_IN_H_WIDTH] | desc[YQ_PROG_IN_W_LSB +: YQ_PROG_IN_W_WIDTH]) >> DIM_W) != 0;
                    out_base    <= desc[YQ_PROG_OUT_BASE_LSB +: YQ_PROG_OUT_BASE_WIDTH];
                    in_base     <= desc[YQ_PROG_IN_BASE0_LSB +: YQ_PROG_IN_BASE0_WIDTH];
                    weight_base <= desc[YQ_PROG_WEIGHT_BASE_LSB +: YQ_PROG_WEIGHT_BASE_WIDTH];
                    bias_base   <= desc[YQ_PROG_BIAS_BASE_LSB +: YQ_PROG_BIAS_BASE_WIDTH];
                    rq_base     <= desc[YQ_PROG_REQUANT_BASE_LSB +: YQ_PROG_REQUANT_BASE_WIDTH];
                    lutdir_addr <= desc[YQ_PROG_ACT_LUT_LSB +: LUT_ID_W];
                    tile_rows   <= desc_tile_rows;
                    div_q       <= 0;
                    div_rem     <= {{(XW-ROWS_BITS){1'b0}}, desc_tile_rows};
                    error       <= 1'b0;
                    inflight    <= 1'b0;
                    state       <= S_DIV;
                end

                // P = div_q * out_w + div_rem by repeated subtraction; checks.
                S_DIV: begin
                    if (kernel == 0 || stride == 0 || pre_bits == 0 || pre_bits_u > PRE_W32 ||
                        in_c == 0 || in_h == 0 || in_w == 0 || out_c == 0 || out_h == 0 || out_w == 0 ||
                        too_big || too_wide ||
                        (in_base & ADDR_OUTSIDE) != 32'd0 || (out_base & ADDR_OUTSIDE) != 32'd0) begin
                        error <= 1'b1;
                        state <= S_DONE;
                    end else if (div_rem >= out_w) begin
                        div_rem <= div_rem - out_w;
                        div_q   <= div_q + 1'b1;
                    end else begin
                        mstep <= 4'd0;
                        state <= S_MUL;
                    end
                end

                S_MUL: begin
                    case (mstep)
                        4'd0:    tk1      <= mul_p;
                        4'd1:    taps     <= mul_p;
                        4'd2:    hw_in    <= mul_p;
                        4'd3:    hw_out   <= mul_p;
                        4'd4:    ow_s     <= mul_p;
                        4'd5:    s_iw     <= mul_p;
                        4'd6:    q_s      <= mul_p;
                        4'd7:    q_s_iw   <= mul_p;
                        4'd8:    rem_s    <= mul_p;
                        4'd9:    pad_iw   <= mul_p;
                        4'd10:   col_hw   <= mul_p;
                        4'd11:   rem_hw   <= mul_p;
                        default: group_taps <= mul_p;
                    endcase
                    mstep <= mstep + 4'd1;
                    if (mstep == 4'd12) state <= S_DERIVE;
                end

                S_DERIVE: begin
                    taps_m1  <= taps - 32'd1;
                    adv_ix   <= trunc_co(rem_s);
                    adv_ix_w <= trunc_co(rem_s - ow_s);
                    adv_iy   <= trunc_co(q_s);
                    adv_iy_w <= trunc_co(q_s + stride_u);
                    adv_ra   <= trunc_addr(q_s_iw + rem_s);
                    adv_ra_w <= trunc_addr(q_s_iw + rem_s + s_iw - ow_s);
                    one_ix_w <= trunc_co(stride_u - ow_s);
                    one_ra_w <= trunc_addr(stride_u + s_iw - ow_s);
                    pre_max  <= trunc_pre((32'd1 << (pre_bits_u - 32'd1)) - 32'd1);
                    pre_min  <= trunc_pre(32'd0 - (32'd1 << (pre_bits_u - 32'd1)));
                    lut_base <= dir_base;
                    lut_step <= dir_index - dir_knot;
                    o0          <= 0;
                    w_group_base <= weight_base;
                    out_ch_base <= out_base;
                    if (has_act && (dir_index_u != pre_bits_u || dir_knot_u > pre_bits_u || dir_knot == 0 ||
                                    (INTERP == 0 && dir_knot != dir_index))) begin
                        error <= 1'b1;
                        state <= S_DONE;
                    end else begin
                        state <= S_TINIT;
                    end
                end

                S_TINIT: begin
                    if (init_k == INIT_LEN - 16'd1) state <= S_RUN;
                end

                S_RUN: if (step && tap_last && pix_left <= tile_pixels) state <= S_FLUSH;

                S_FLUSH: if (!inflight && !beat) begin
                    if ({{(32-CW){1'b0}}, o0} + COLS32 < out_c_u) begin
                        o0          <= o0_next;
                        if (o0_next[LOG_GROUP-1:0] == 0) w_group_base <= w_group_base + group_taps;
                        out_ch_base <= out_ch_base + (tile_full ? col_hw : rem_hw);
                        state       <= S_TINIT;
                    end else if (!drain_busy) begin
                        state <= S_DONE;
                    end
                end

                S_DONE: begin
                    done  <= 1'b1;
                    if (rq_shift_bad) error <= 1'b1;
                    state <= S_IDLE;
                end

                default: state <= S_IDLE;
            endcase

            if (step && tap_last) inflight <= 1'b1;
            else if (mac_out_valid) inflight <= 1'b0;
        end
    end

    // Shift chains of the channel tile setup: insert at the top, shift down.
    wire [(ROWS+1)*XW-1:0]    ins_x    = {cur_x, row_x};
    wire [(ROWS+1)*CO_W-1:0]  ins_ix   = {cur_ix, row_ix};
    wire [(ROWS+1)*CO_W-1:0]  ins_iy   = {cur_iy, row_iy};
    wire [(ROWS+1)*AW-1:0]    ins_ra   = {cur_ra, row_ra};
    wire [MAC_W:0]            bias_ext = {{(MAC_W-ACC_W+1){bias_data[ACC_W-1]}}, bias_data};  // sign-extended
    wire [(COLS+1)*MAC_W-1:0] ins_bias = {bias_ext[MAC_W-1:0], bias_regs};
    wire [(COLS+1)*RQ_W-1:0]  ins_rq   = {rq_data, rq_regs};
    wire unused_ins = ^{bias_ext[MAC_W], ins_x[XW-1:0], ins_ix[CO_W-1:0], ins_iy[CO_W-1:0], ins_ra[AW-1:0],
                        ins_bias[MAC_W-1:0], ins_rq[RQ_W-1:0]};

    // Setup of a channel tile: pixel rows, column weight bases, biases and
    // requant words (INIT_LEN cycles).
    always @(posedge clk) begin
        if (state == S_DERIVE || (state == S_FLUSH && !inflight && !beat)) begin
            init_k   <= 16'd0;
            cur_x    <= 0;
            cur_ix   <= trunc_co(32'd0 - pad_u);
            cur_iy   <= trunc_co(32'd0 - pad_top_u);
            cur_ra   <= trunc_addr(32'd0 - pad_iw - pad_u);
        end else if (state == S_TINIT) begin
            init_k <= init_k + 16'd1;
            if (init_k < ROWS16) begin
                row_x  <= ins_x[(ROWS+1)*XW-1:XW];
                row_ix <= ins_ix[(ROWS+1)*CO_W-1:CO_W];
                row_iy <= ins_iy[(ROWS+1)*CO_W-1:CO_W];
                row_ra <= ins_ra[(ROWS+1)*AW-1:AW];
                cur_x  <= cur_wrap ? 0 : cur_xs[XW-1:0];
                cur_ix <= cur_ix + (cur_wrap ? one_ix_w : trunc_co(stride_u));
                cur_iy <= cur_iy + (cur_wrap ? trunc_co(stride_u) : {CO_W{1'b0}});
                cur_ra <= cur_ra + (cur_wrap ? one_ra_w : trunc_addr(stride_u));
            end
        end else if (step && tap_last) begin
            row_x  <= twin ? adv2_x : adv_x;
            row_ix <= twin ? adv2_ixv : adv_ixv;
            row_iy <= twin ? adv2_iyv : adv_iyv;
            row_ra <= twin ? adv2_rav : adv_rav;
        end
    end

    // Bias and requant words of the channel tile: address in cycle k < COLS,
    // data captured in cycle k + 2 (column k; a twin tile's upper half
    // repeats the lower half's channels).
    wire [31:0] init_k32 = {16'd0, init_k};
    // A captured word of a channel the tile drains (the rest may be anything),
    // and its shift against the requant units' window (below RQ_SHIFT_MIN,
    // the difference wraps past the window's width).
    wire        capture_used = state == S_TINIT && init_k >= 16'd2 && init_k32 - 32'd2 < tile_chans;
    wire [31:0] rq_shift = {{(32-SHIFT_W){1'b0}}, rq_data[MULT_W +: SHIFT_W]};
    wire [31:0] init_ch  = (twin_tile && init_k32 >= HALF32) ? init_k32 - HALF32 : init_k32;
    always @(posedge clk) begin
        if (state == S_TINIT && init_k < COLS16) begin
            bias_addr <= bias_base + {{(32-CW){1'b0}}, o0} + init_ch;
            rq_addr   <= rq_base + {{(32-CW){1'b0}}, o0} + init_ch;
        end
        if (state == S_TINIT && init_k >= 16'd2 && init_k < COLS16 + 16'd2) begin
            bias_regs <= ins_bias[(COLS+1)*MAC_W-1:MAC_W];
            rq_regs   <= ins_rq[(COLS+1)*RQ_W-1:RQ_W];
        end
        if (rst || state == S_IDLE) rq_shift_bad <= 1'b0;
        else if (capture_used && rq_shift - RQ_SHIFT_MIN32 > RQ_SHIFT_MAX32 - RQ_SHIFT_MIN32) rq_shift_bad <= 1'b1;
        if (state == S_TINIT) begin
            ncols <= tile_chans[CW-1:0];
            twin  <= twin_tile;
        end
    end

    // Tap and pixel counters.
    always @(posedge clk) begin
        if (state == S_TINIT) begin
            t        <= 32'd0;
            kx       <= 0;
            ky       <= 0;
            chan_off <= 32'd0;
            chan_low <= 1'b0;
            row_off  <= 32'd0;
            p0       <= 32'd0;
            pix_left <= hw_out;
        end else if (step) begin
            if (tap_last) begin
                t        <= 32'd0;
                kx       <= 0;
                ky       <= 0;
                chan_off <= 32'd0;
                chan_low <= 1'b0;
                row_off  <= 32'd0;
                p0       <= p0 + tile_pixels;
                pix_left <= pix_left - tile_pixels;
                inflight_p0 <= p0;
                inflight_mask <= tap_rows_valid;
                inflight_mask_b <= tap_rows_valid_b;
            end else begin
                t <= t + 32'd1;
                if (kx_u == kernel_u - 32'd1) begin
                    kx <= 0;
                    if (ky_u == kernel_u - 32'd1) begin
                        ky       <= 0;
                        chan_off <= chan_off + hw_in;
                        chan_low <= !chan_low;
                        row_off  <= chan_off + hw_in;
                    end else begin
                        ky      <= ky + 1'b1;
                        row_off <= row_off + in_w_u;
                    end
                end else begin
                    kx <= kx + 1'b1;
                end
            end
        end
    end

    generate
        for (r = 0; r < ROWS; r = r + 1) begin : g_rows_valid
            assign tap_rows_valid[r]   = (pix_cap32 > r) && (tile_rows32 > r);
            assign tap_rows_valid_b[r] = twin && (pix_cap32 > ROWS + r);
        end
    endgenerate

    // ---------------------------------------------------------------------
    // Fetch: addresses (stage 1), data and MAC input (stage 2).
    reg v1, first1, last1, v2, first2, last2;
    reg high1, high2, low1, low2;                         // the tap reads a high / low byte plane
    reg [ROWS-1:0] ok1, ok2, zero1, zero2, onb1, onb2;   // onb: the lane read on set B
    reg [ROWS-1:0] okt1, okt2;                            // a twin tile's second group read

    always @(posedge clk) begin
        for (l = 0; l < ROWS; l = l + 1) begin  // lanes read only for an issued tap
            fm_rd_addr[l*32 +: 32]   <= (issue && lane_serve[l] && !lane_b[l]) ? tap_addr[l*32 +: 32] : 32'hffff_ffff;
            fm_rd_addr_b[l*32 +: 32] <= (issue && lane_b[l]) ? tap_addr[l*32 +: 32]
                                      : (issue && tap_ok_b[l]) ? tap_addr_b[l*32 +: 32] : 32'hffff_ffff;
        end
        okt1       <= tap_ok_b;
        okt2       <= okt1;
        ok1        <= lane_serve;
        onb1       <= lane_b;
        onb2       <= onb1;
        zero1      <= lane_zero;
        first1     <= (t == 32'd0) && (lanes_done == {ROWS{1'b0}});
        last1      <= tap_last && tap_final;
        high1      <= in_planes && !chan_low;
        low1       <= in_planes && chan_low;
        high2      <= high1;
        low2       <= low1;
        ok2        <= ok1;
        zero2      <= zero1;
        first2     <= first1;
        last2      <= last1;
        w_addr     <= w_group_base + (t << LOG_GROUP) + {{(32-LOG_GROUP){1'b0}}, o0[LOG_GROUP-1:0]};
        if (rst) begin
            v1 <= 1'b0;
            v2 <= 1'b0;
        end else begin
            v1 <= issue;
            v2 <= v1;
        end
    end

    // The array's operand of a word: a code (sign-extended), or with a
    // byte-plane input a high plane's word times 256 (signed) or a low
    // plane's as it is (unsigned); the two terms of a channel's planes add up
    // to its code's.
    wire [ROWS*OP_W-1:0] a_vec, a_twin;
    generate
        for (r = 0; r < ROWS; r = r + 1) begin : g_a
            wire [A_W-1:0] word = zero2[r] ? {A_W{1'b0}} : !ok2[r] ? pad_code[A_W-1:0]
                                : onb2[r] ? fm_rd_data_b[r*A_W +: A_W] : fm_rd_data[r*A_W +: A_W];
            wire [A_W-1:0] twin_word = okt2[r] ? fm_rd_data_b[r*A_W +: A_W] : pad_code[A_W-1:0];
            if (PLANES != 0) begin : g_planes
                assign a_vec[r*OP_W +: OP_W]  = high2 ? {word, 8'd0} : low2 ? {8'd0, word} : {{8{word[A_W-1]}}, word};
                assign a_twin[r*OP_W +: OP_W] = high2 ? {twin_word, 8'd0} : low2 ? {8'd0, twin_word}
                                              : {{8{twin_word[A_W-1]}}, twin_word};
            end else begin : g_words
                assign a_vec[r*OP_W +: OP_W]  = word;
                assign a_twin[r*OP_W +: OP_W] = twin_word;
                wire unused_planes = ^{high2, low2};
            end
        end
    endgenerate
    // A twin tile: the upper columns take the second pixel group and the
    // lower columns' weights (the tile's channels, at the row slice's start).
    wire [COLS*W_W-1:0] w_twin;
    generate
        if (TWIN_ON) begin : g_w_twin
            assign w_twin = {w_data[0 +: HALF*W_W], w_data[0 +: HALF*W_W]};
        end else begin : g_w_plain
            assign w_twin = w_data;
        end
    endgenerate

    yq_mac_array #(
        .ROWS (ROWS),
        .COLS (COLS),
        .A_W  (OP_W),
        .W_W  (W_W),
        .ACC_W(MAC_W)
    ) u_mac (
        .clk      (clk),
        .rst      (rst),
        .in_valid (v2),
        .in_first (first2),
        .in_last  (last2),
        .a_vec    (a_vec),
        .a_hi_vec (twin ? a_twin : a_vec),
        .w_vec    (twin ? w_twin : w_data),
        .bias_vec (bias_regs),
        .out_valid(mac_out_valid),
        .acc_out  (mac_acc)
    );

    // ---------------------------------------------------------------------
    // Drain: one output channel per beat, ROWS pixels.
    // The drain buffer holds the tile's sums where the array left them (its
    // registers only load); each beat reads column drain_col of every row
    // and its requant word (an AND-OR of the columns, one-hot: an index
    // times RQ_W would be a multiplier, which yosys 0.23 packs into a DSP
    // together with drain_col's increment and then loses the increment).
    wire [ROWS*MAC_W-1:0] drain_acc;
    wire [COLS-1:0] drain_onehot;
    generate
        for (c = 0; c < COLS; c = c + 1) begin : g_onehot
            assign drain_onehot[c] = (drain_col == c);
        end
        for (r = 0; r < ROWS; r = r + 1) begin : g_shadow
            reg [MAC_W-1:0] pick;
            integer k;
            always @* begin
                pick = {MAC_W{1'b0}};
                for (k = 0; k < COLS; k = k + 1) pick = pick | ({MAC_W{drain_onehot[k]}} & shadow[(r*COLS + k)*MAC_W +: MAC_W]);
            end
            assign drain_acc[r*MAC_W +: MAC_W] = pick;
        end
    endgenerate
    reg [RQ_W-1:0] drain_rq;
    integer dk;
    always @* begin
        drain_rq = {RQ_W{1'b0}};
        for (dk = 0; dk < COLS; dk = dk + 1) drain_rq = drain_rq | ({RQ_W{drain_onehot[dk]}} & rq_regs[dk*RQ_W +: RQ_W]);
    end

    always @(posedge clk) begin
        if (rst) begin
            drain_left <= 0;
        end else if (mac_out_valid) begin
            drain_left <= twin ? HALF_C + ncols : out_planes ? ncols + ncols : ncols;
        end else if (beat) begin
            drain_left <= drain_left - 1'b1;
        end
        // A twin tile drains its columns 0 .. ncols - 1 (the first pixel
        // group), skips to column HALF with writes masked off, then drains
        // HALF .. HALF + ncols - 1 (the second group, ROWS pixels further).
        // A byte-plane output drains each column twice, its high plane's
        // words then its low plane's (the next stored channel).
        if (mac_out_valid) begin
            shadow       <= mac_acc;
            drain_col    <= 0;
            drain_low    <= 1'b0;
            drain_addr   <= out_ch_base + inflight_p0;
            drain_mask   <= inflight_mask;
            drain_addr_b <= out_ch_base + inflight_p0 + ROWS32;
            drain_mask_b <= inflight_mask_b;
        end else if (beat) begin
            drain_low  <= out_planes && !drain_low;
            if (!out_planes || drain_low) drain_col <= drain_col + 1'b1;
            if (twin && drain_col + 1'b1 == HALF_C) begin
                drain_addr <= drain_addr_b;
                drain_mask <= drain_mask_b;
            end else begin
                drain_addr <= drain_addr + hw_out;
                if (twin && drain_col + 1'b1 == ncols) drain_mask <= {ROWS{1'b0}};
            end
        end
    end

    // Requantization (latency 2), then saturation to pre_bits and the table
    // address (stage 3), table data (stage 4), interpolation product (stage 5),
    // output codes (stage 6, the write).
    wire [ROWS*PRE_W-1:0] rq_out;
    wire [ROWS-1:0]       unused_rq_valid;   // the drain keeps its own valids
    generate
        for (r = 0; r < ROWS; r = r + 1) begin : g_rq
            yq_requant #(
                .ACC_W  (MAC_W),
                .MULT_W (MULT_W),
                .SHIFT_W(SHIFT_W),
                .OUT_W  (PRE_W),
                .SHIFT_MIN(RQ_SHIFT_MIN),
                .SHIFT_MAX(RQ_SHIFT_MAX)
            ) u_requant (
                .clk      (clk),
                .rst      (rst),
                .in_valid (beat),
                .acc      (drain_acc[r*MAC_W +: MAC_W]),
                .mult     (drain_rq[MULT_W-1:0]),
                .shift    (drain_rq[MULT_W +: SHIFT_W]),
                .out_valid(unused_rq_valid[r]),
                .out      (rq_out[r*PRE_W +: PRE_W])
            );
        end
    endgenerate

    // Output address and mask along the requant latency.
    reg [31:0]     addr_d1, addr_d2, addr_d3, addr_d4, addr_d5;
    reg [ROWS-1:0] mask_d1, mask_d2, mask_d3, mask_d4, mask_d5;
    reg            high_d1, high_d2, high_d3, high_d4, high_d5;   // writes a high byte plane
    always @(posedge clk) begin
        high_d1 <= out_planes && !drain_low;
        {high_d2, high_d3, high_d4, high_d5} <= {high_d1, high_d2, high_d3, high_d4};
        addr_d1 <= drain_addr;
        mask_d1 <= drain_mask;
        addr_d2 <= addr_d1;
        mask_d2 <= mask_d1;
        addr_d3 <= addr_d2;
        mask_d3 <= mask_d2;
        addr_d4 <= addr_d3;
        mask_d4 <= mask_d3;
        addr_d5 <= addr_d4;
        mask_d5 <= mask_d4;
        if (rst) begin
            v_d1     <= 1'b0;
            v_d2     <= 1'b0;
            v_d3     <= 1'b0;
            v_d4     <= 1'b0;
            v_d5     <= 1'b0;
            fm_wr_en <= 1'b0;
        end else begin
            v_d1     <= beat;
            v_d2     <= v_d1;
            v_d3     <= v_d2;
            v_d4     <= v_d3;
            v_d5     <= v_d4;
            fm_wr_en <= v_d5;
        end
        fm_wr_addr <= addr_d5;
        fm_wr_mask <= mask_d5;
    end

    assign drain_busy = beat | v_d1 | v_d2 | v_d3 | v_d4 | v_d5 | fm_wr_en;

    reg [ROWS*V_W-1:0]   pre_d3, pre_d4, pre_d5;
    reg [ROWS*PRE_W-1:0] frac_d3, frac_d4;
    reg [ROWS*D_W-1:0] knot_d5;

    generate
        for (r = 0; r < ROWS; r = r + 1) begin : g_lut
            // Stage 3: saturate to pre_bits, table offset o = pre + 2^(b-1),
            // knot i = o >> step, fraction f = o & (2^step - 1).
            wire [PRE_W-1:0] pre_in  = rq_out[r*PRE_W +: PRE_W];
            wire [PRE_W-1:0] pre_sat = ($signed(pre_in) > $signed(pre_max)) ? pre_max
                                     : ($signed(pre_in) < $signed(pre_min)) ? pre_min : pre_in;
            wire [PRE_W-1:0] offset  = pre_sat + lut_half;   // 0 .. 2^pre_bits - 1
            wire [V_W:0]     pre_ext = {{(V_W-PRE_W+1){pre_sat[PRE_W-1]}}, pre_sat};
            always @(posedge clk) begin
                pre_d3[r*V_W +: V_W]     <= pre_ext[V_W-1:0];
                frac_d3[r*PRE_W +: PRE_W] <= offset & lut_fmask;
                lut_addr[r*32 +: 32]      <= lut_base + {{(32-PRE_W){1'b0}}, offset >> lut_step};
            end

            // Stage 4: (T[i+1] - T[i]) * f, and stage 5: T[i] +
            // rounding_shift(product, step) (docs/ARITHMETIC.md section 6); a
            // direct table's value is T[i]. Without a table: the
            // pre-activation itself.
            wire [D_W-1:0] k0 = {lut_data0[r*LUT_W + LUT_W - 1], lut_data0[r*LUT_W +: LUT_W]};
            always @(posedge clk) knot_d5[r*D_W +: D_W] <= k0;
            wire [D_W-1:0] value;
            if (INTERP != 0) begin : g_interp
                wire [D_W-1:0] k1 = {lut_data1[r*LUT_W + LUT_W - 1], lut_data1[r*LUT_W +: LUT_W]};
                wire signed [D_W-1:0] diff = $signed(k1) - $signed(k0);
                reg  signed [P_W-1:0] prod_d5;
                always @(posedge clk) prod_d5 <= diff * $signed({1'b0, frac_d4[r*PRE_W +: PRE_W]});
                wire signed [D_W-1:0] rounded;
                yq_round_sat #(
                    .IN_W   (P_W),
                    .SHIFT_W(YQ_LUTDIR_INDEX_BITS_WIDTH),
                    .OUT_W  (D_W)
                ) u_round (
                    .x    (prod_d5),
                    .shift(lut_step),
                    .y    (rounded)
                );
                assign value = knot_d5[r*D_W +: D_W] + rounded;
            end else begin : g_direct
                assign value = knot_d5[r*D_W +: D_W];
                wire unused_interp = ^{lut_data1[r*LUT_W +: LUT_W], frac_d4[r*PRE_W +: PRE_W]};
            end
            // The code, or its high byte plane (a low plane's word is the
            // code's low byte, as is a code no wider than a word).
            wire [OP_W-1:0] code = has_act ? value[OP_W-1:0] : pre_d5[r*V_W +: OP_W];
            if (PLANES != 0) begin : g_plane_write
                always @(posedge clk) fm_wr_data[r*A_W +: A_W] <= high_d5 ? code[OP_W-1 -: A_W] : code[A_W-1:0];
            end else begin : g_word_write
                always @(posedge clk) fm_wr_data[r*A_W +: A_W] <= code;
                wire unused_plane = high_d5;
            end
            wire unused_lut = ^{value, pre_d5[r*V_W +: V_W], pre_ext[V_W]};
        end
    endgenerate

    always @(posedge clk) begin
        pre_d4  <= pre_d3;
        pre_d5  <= pre_d4;
        frac_d4 <= frac_d3;
        if (state == S_DERIVE) begin
            lut_half  <= trunc_pre(32'd1 << (dir_index_u - 32'd1));
            lut_fmask <= trunc_pre((32'd1 << (dir_index_u - dir_knot_u)) - 32'd1);
        end
    end

    wire unused_ok = ^{desc, lutdir_data, pad_code};
endmodule
