// yq_add_unit: the residual add of docs/ARITHMETIC.md section 5,
//   out = saturate(rounding_shift(a * mult_a + b * mult_b, shift), OUT_W)
// a, b signed codes (A_W, B_W bits), mult_a, mult_b unsigned (MULT_W bits),
// one shared runtime shift (SHIFT_W bits, 0 = no rounding; rounding as in
// section 2). All intermediate values are kept at full width.
//
// Pipeline: three register stages, latency 3, one input per cycle:
//   stage 1: the two products; stage 2: their sum;
//   stage 3: rounding shift + saturation (yq_round_sat).
// rst (synchronous, active high) clears the valids only.
module yq_add_unit #(
    parameter A_W     = 8,
    parameter B_W     = 8,
    parameter MULT_W  = 16,
    parameter SHIFT_W = 6,
    parameter OUT_W   = 8
) (
    input  wire                      clk,
    input  wire                      rst,
    input  wire                      in_valid,
    input  wire signed [A_W-1:0]     a,
    input  wire signed [B_W-1:0]     b,
    input  wire        [MULT_W-1:0]  mult_a,
    input  wire        [MULT_W-1:0]  mult_b,
    input  wire        [SHIFT_W-1:0] shift,
    output reg                       out_valid,
    output reg  signed [OUT_W-1:0]   out
);
    localparam IN_MAX_W = (A_W > B_W) ? A_W : B_W;
    localparam P_W      = IN_MAX_W + MULT_W + 1;  // each product, signed
    localparam S_W      = P_W + 1;                // their sum, signed

    // Stage 1: products (mults zero-extended).
    reg                      v1;
    reg signed [P_W-1:0]     prod_a1, prod_b1;
    reg        [SHIFT_W-1:0] shift1;

    always @(posedge clk) begin
        prod_a1 <= a * $signed({1'b0, mult_a});
        prod_b1 <= b * $signed({1'b0, mult_b});
        shift1  <= shift;
    end

    // Stage 2: sum.
    reg                      v2;
    reg signed [S_W-1:0]     sum2;
    reg        [SHIFT_W-1:0] shift2;

    always @(posedge clk) begin
        sum2   <= {prod_a1[P_W-1], prod_a1} + {prod_b1[P_W-1], prod_b1};
        shift2 <= shift1;
    end

    // Stage 3: rounding shift and saturation.
    wire signed [OUT_W-1:0] result;

    yq_round_sat #(
        .IN_W   (S_W),
        .SHIFT_W(SHIFT_W),
        .OUT_W  (OUT_W)
    ) u_round_sat (
        .x    (sum2),
        .shift(shift2),
        .y    (result)
    );

    always @(posedge clk) begin
        out <= result;
    end

    always @(posedge clk) begin
        if (rst) begin
            v1        <= 1'b0;
            v2        <= 1'b0;
            out_valid <= 1'b0;
        end else begin
            v1        <= in_valid;
            v2        <= v1;
            out_valid <= v2;
        end
    end
endmodule
