// yq_requant: requantization of an accumulator,
//   out = saturate(rounding_shift(acc * mult, shift), OUT_W)
// exactly arith::requantize of docs/ARITHMETIC.md section 3 (rounding:
// section 2, round half toward +infinity; shift 0 = no rounding).
//
// acc is signed (ACC_W bits), mult unsigned (MULT_W bits), shift unsigned
// (SHIFT_W bits, any value 0 .. 2^SHIFT_W-1). The product is kept at full
// width (ACC_W + MULT_W + 1 bits), so it never overflows.
//
// Pipeline: two register stages, latency 2 cycles, one input per cycle.
//   stage 1: product (maps to a DSP multiplier with output register)
//   stage 2: rounding shift + saturation (yq_round_sat)
// out_valid follows in_valid with the same latency; rst clears the valids only.
module yq_requant #(
    parameter ACC_W   = 32,
    parameter MULT_W  = 16,
    parameter SHIFT_W = 6,
    parameter OUT_W   = 8
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

    // Stage 1: full-width signed product (mult zero-extended).
    reg                      s1_valid;
    reg signed [P_W-1:0]     s1_prod;
    reg        [SHIFT_W-1:0] s1_shift;

    always @(posedge clk) begin
        s1_prod  <= acc * $signed({1'b0, mult});
        s1_shift <= shift;
    end

    // Stage 2: rounding shift and saturation.
    wire signed [OUT_W-1:0] s2_result;

    yq_round_sat #(
        .IN_W   (P_W),
        .SHIFT_W(SHIFT_W),
        .OUT_W  (OUT_W)
    ) u_round_sat (
        .x    (s1_prod),
        .shift(s1_shift),
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
