// yq_round_sat: combinational rounding right shift and saturation,
//   y = saturate(rounding_shift(x, shift), OUT_W)
// exactly as docs/ARITHMETIC.md section 1 (saturate) and section 2
// (rounding_shift: x if shift = 0, else (x + 2^(shift-1)) >> shift with an
// arithmetic shift, i.e. round half toward +infinity).
//
// The rounding is computed without a shifted constant:
//   (x + 2^(s-1)) >> s  ==  ((x >>> (s-1)) + 1) >>> 1        for s >= 1
// (floor of a floor), so a shift larger than IN_W is handled too: x >>> (s-1)
// is then 0 or -1 and the result 0, as the exact formula gives.
//
// Parameters: IN_W (signed input bits), SHIFT_W (unsigned shift bits; every
// shift 0 .. 2^SHIFT_W-1 is exact), OUT_W (signed output bits, OUT_W <= IN_W).
module yq_round_sat #(
    parameter IN_W    = 48,
    parameter SHIFT_W = 6,
    parameter OUT_W   = 8
) (
    input  wire signed [IN_W-1:0]    x,
    input  wire        [SHIFT_W-1:0] shift,
    output wire signed [OUT_W-1:0]   y
);
    localparam R_W = IN_W + 1;  // one bit more: (x >>> (s-1)) + 1 may carry

    wire        [SHIFT_W-1:0] shift_m1 = shift - {{(SHIFT_W-1){1'b0}}, 1'b1};
    wire signed [R_W-1:0]     x_ext    = {x[IN_W-1], x};
    wire signed [R_W-1:0]     halved   = x_ext >>> shift_m1;    // floor(x / 2^(s-1))
    wire signed [R_W-1:0]     plus_one = halved + {{(R_W-1){1'b0}}, 1'b1};
    wire signed [R_W-1:0]     rounded  = (shift == {SHIFT_W{1'b0}}) ? x_ext : (plus_one >>> 1);

    // Saturation bounds as R_W-bit signed constants.
    localparam signed [R_W-1:0] MAX_OUT = {{(R_W-OUT_W+1){1'b0}}, {(OUT_W-1){1'b1}}};
    localparam signed [R_W-1:0] MIN_OUT = {{(R_W-OUT_W+1){1'b1}}, {(OUT_W-1){1'b0}}};

    assign y = (rounded > MAX_OUT) ? MAX_OUT[OUT_W-1:0]
             : (rounded < MIN_OUT) ? MIN_OUT[OUT_W-1:0]
             : rounded[OUT_W-1:0];
endmodule
