// yq_lut_unit: table lookup of a signed IN_W-bit code, exactly
// arith::lookup / arith::interpolated_lookup of docs/ARITHMETIC.md section 6.
//
// The table is stored from the most negative code up, so the entry of code p
// is at offset o = p - min_code = p + 2^(IN_W-1) (the code with its sign bit
// inverted). Two modes, chosen by KNOT_W:
//   KNOT_W >= IN_W: direct table of 2^IN_W entries, out = T[o].
//   KNOT_W <  IN_W: interpolated table of 2^KNOT_W + 1 knots spaced
//                   2^STEP codes apart (STEP = IN_W - KNOT_W):
//                   i = o >> STEP, f = o & (2^STEP - 1),
//                   out = T[i] + rounding_shift((T[i+1] - T[i]) * f, STEP)
//                   (rounding_shift: section 2, round half toward +infinity).
// Entries are OUT_W-bit words, signed (SIGNED = 1, e.g. SiLU codes) or
// unsigned (SIGNED = 0, e.g. 16-bit sigmoid scores). The interpolated result
// always lies between the two knots, so it fits in OUT_W bits.
//
// The table is loaded with $readmemh from TABLE_FILE: one hex word per line,
// OUT_W bits two's complement, entry 0 = most negative code. Use an absolute
// path (simulators resolve it against their working directory).
//
// Pipeline, one input per cycle, out_valid follows in_valid:
//   direct:       latency 1 (synchronous ROM read, a block RAM)
//   interpolated: latency 3 (dual read of T[i], T[i+1]; product; add)
// rst (synchronous, active high) clears the valids only.
module yq_lut_unit #(
    parameter IN_W       = 8,
    parameter KNOT_W     = 8,
    parameter OUT_W      = 8,
    parameter SIGNED     = 1,
    parameter TABLE_FILE = ""
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              in_valid,
    input  wire [IN_W-1:0]   code,       // signed code
    output wire              out_valid,
    output wire [OUT_W-1:0]  out         // signed if SIGNED, else unsigned
);
    localparam INTERP = (KNOT_W < IN_W) ? 1 : 0;
    localparam DEPTH  = INTERP ? ((1 << KNOT_W) + 1) : (1 << IN_W);

    reg [OUT_W-1:0] rom [0:DEPTH-1];

    initial begin
        if (TABLE_FILE != "") $readmemh(TABLE_FILE, rom);
    end

    // Offset from the most negative code: invert the sign bit.
    wire [IN_W-1:0] offset = {~code[IN_W-1], code[IN_W-2:0]};

    generate
        if (INTERP == 0) begin : g_direct
            reg             v1;
            reg [OUT_W-1:0] data1;

            always @(posedge clk) begin
                data1 <= rom[offset];
            end

            always @(posedge clk) begin
                if (rst) v1 <= 1'b0;
                else     v1 <= in_valid;
            end

            assign out_valid = v1;
            assign out       = data1;
        end else begin : g_interp
            localparam STEP = IN_W - KNOT_W;
            localparam D_W  = OUT_W + 1;           // knot difference, signed
            localparam P_W  = D_W + STEP + 1;      // difference * fraction, signed
            localparam signed [P_W-1:0] HALF = {{(P_W-1){1'b0}}, 1'b1} << (STEP - 1);

            wire [KNOT_W:0]  idx  = {1'b0, offset[IN_W-1:STEP]};
            wire [STEP-1:0]  frac = offset[STEP-1:0];

            // Stage 1: read both knots.
            reg             v1;
            reg [OUT_W-1:0] knot1, next1;
            reg [STEP-1:0]  frac1;

            always @(posedge clk) begin
                knot1 <= rom[idx];
                next1 <= rom[idx + 1'b1];
                frac1 <= frac;
            end

            // Stage 2: (next - knot) * fraction.
            wire signed [D_W-1:0] knot1_ext = {(SIGNED != 0) & knot1[OUT_W-1], knot1};
            wire signed [D_W-1:0] next1_ext = {(SIGNED != 0) & next1[OUT_W-1], next1};
            wire signed [D_W-1:0] diff1     = next1_ext - knot1_ext;

            reg                   v2;
            reg signed [D_W-1:0]  knot2;
            reg signed [P_W-1:0]  prod2;

            always @(posedge clk) begin
                knot2 <= knot1_ext;
                prod2 <= diff1 * $signed({1'b0, frac1});
            end

            // Stage 3: knot + rounding_shift(product, STEP).
            wire signed [P_W-1:0] rounded = (prod2 + HALF) >>> STEP;
            wire signed [D_W-1:0] sum3    = knot2 + rounded[D_W-1:0];

            reg             v3;
            reg [OUT_W-1:0] data3;

            always @(posedge clk) begin
                data3 <= sum3[OUT_W-1:0];
            end

            always @(posedge clk) begin
                if (rst) begin
                    v1 <= 1'b0;
                    v2 <= 1'b0;
                    v3 <= 1'b0;
                end else begin
                    v1 <= in_valid;
                    v2 <= v1;
                    v3 <= v2;
                end
            end

            // |rounded| <= |next - knot| and the sum lies between the knots:
            // the dropped high bits are sign copies.
            wire unused_bits = ^{rounded[P_W-1:D_W], sum3[D_W-1:OUT_W]};

            assign out_valid = v3;
            assign out       = data3;
        end
    endgenerate
endmodule
