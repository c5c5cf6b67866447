// yq_requant: requantization of an accumulator,
//   out = saturate(rounding_shift(acc * mult, shift), OUT_W)
// exactly arith::requantize of docs/ARITHMETIC.md section 3 (rounding:
// section 2, round half toward +infinity; shift 0 = no rounding).
//
// acc is signed (ACC_W bits), mult unsigned (MULT_W bits), shift unsigned
// (SHIFT_W bits, any value SHIFT_MIN .. SHIFT_MAX; by default every value
// 0 .. 2^SHIFT_W-1). The product is kept at full width (ACC_W + MULT_W + 1
// bits), so it never overflows.
//
// A window SHIFT_MIN .. SHIFT_MAX (the compiler's YQ_CONV_SHIFT_MIN/MAX)
// narrows the rounding shifter: with L = SHIFT_MIN - 1 (at most the bits the
// product has beyond OUT_W) and s >= 1,
//   ((p >>> (s-1)) + 1) >>> 1  ==  (((p >>> L) >>> (s-L-1)) + 1) >>> 1,
// so yq_round_sat takes p's top bits (p >>> L is wiring) and the shift s - L,
// of log2(SHIFT_MAX - L + 1) bits. A shift outside the window gives an
// undefined result (yq_conv_engine refuses such requant words).
//
// Pipeline: two register stages, latency 2 cycles, one input per cycle.
//   stage 1: product (maps to a DSP multiplier with output register; its
//            bits below L are not kept)
//   stage 2: rounding shift + saturation (yq_round_sat)
// out_valid follows in_valid with the same latency; rst clears the valids only.
module yq_requant #(
    parameter ACC_W   = 32,
    parameter MULT_W  = 16,
    parameter SHIFT_W = 6,
    parameter OUT_W   = 8,
    parameter SHIFT_MIN = 0,
    parameter SHIFT_MAX = (1 << SHIFT_W) - 1
) (
    input  wire                      clk,
    input  wire                      rst,        // synchronous, active high
    input  wire                      in_valid,
    input  wire signed [ACC_W-1:0]   acc,
    input  wire        [MULT_W-1:0]  mult,
    input  wire        [SHIFT_W-1:0] shift,
    output reg                       out_valid,
    output reg  signed [OUT_W-1:0]   out
);
    localparam P_W = ACC_W + MULT_W + 1;
    localparam L_WANT = (SHIFT_MIN > 1) ? SHIFT_MIN - 1 : 0;
    localparam L      = (L_WANT < P_W - OUT_W) ? L_WANT : P_W - OUT_W;   // product bits below the shifter
    localparam VS_W   = (SHIFT_MAX - L >= 1) ? $clog2(SHIFT_MAX - L + 1) : 1;
    localparam [31:0] L32 = L;
    localparam [SHIFT_W-1:0] L_SHIFT = L32[SHIFT_W-1:0];

    // Stage 1: the signed product (mult zero-extended), its bits L and up.
    /* verilator lint_off UNUSEDSIGNAL */
    wire signed [P_W-1:0]    product = acc * $signed({1'b0, mult});   // bits below L: no shift needs them
    /* verilator lint_on UNUSEDSIGNAL */
    reg                      s1_valid;
    reg signed [P_W-L-1:0]   s1_prod;
    reg        [SHIFT_W-1:0] s1_shift;

    always @(posedge clk) begin
        s1_prod  <= product[P_W-1:L];
        s1_shift <= shift;
    end

    // Stage 2: rounding shift and saturation.
    wire signed [OUT_W-1:0] s2_result;

    /* verilator lint_off UNUSEDSIGNAL */
    wire [SHIFT_W-1:0] s1_rest = s1_shift - L_SHIFT;   // bits VS_W and up: 0 inside the window
    /* verilator lint_on UNUSEDSIGNAL */
    yq_round_sat #(
        .IN_W   (P_W - L),
        .SHIFT_W(VS_W),
        .OUT_W  (OUT_W)
    ) u_round_sat (
        .x    (s1_prod),
        .shift(s1_rest[VS_W-1:0]),
        .y    (s2_result)
    );

    always @(posedge clk) begin
        out <= s2_result;
    end

    always @(posedge clk) begin
        if (rst) begin
            s1_valid  <= 1'b0;
            out_valid <= 1'b0;
        end else begin
            s1_valid  <= in_valid;
            out_valid <= s1_valid;
        end
    end
endmodule
