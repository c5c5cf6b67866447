// yq_mac_array: ROWS x COLS outer-product multiply-accumulate array, the
// inner loop of a convolution (docs/ARITHMETIC.md section 4):
//   acc[r][c] = bias[c] + sum over the terms of a[r] * w[c]
// Row r is an output pixel (its activation stream a[r]), column c an output
// channel (its weight stream w[c]); every cycle each of the ROWS*COLS cells
// adds one product. The upper half of the columns (c >= COLS/2) takes its
// activations from a_hi_vec: the conv engine's twin tiles put a second group
// of ROWS pixels there (otherwise a_hi_vec = a_vec). Activations are signed A_W-bit codes, weights signed
// W_W-bit codes, accumulators signed ACC_W bits (ACC_W >= A_W + W_W; the
// overflow certificate of section 1 bounds |acc| < 2^(ACC_W-1)).
//
// Control, sampled with in_valid:
//   in_first: the first term of a new sum: acc <= bias + a*w (clear and load)
//             instead of acc <= acc + a*w.
//   in_last:  the last term; out_valid is high for one cycle when acc_out
//             holds the finished sums. acc_out then holds its value until the
//             next term arrives (a new sum may start right after in_last).
// A cycle without in_valid leaves the accumulators unchanged.
//
// Pipeline: stage 1 registers the products (DSP multiplier output register),
// stage 2 accumulates; out_valid comes 2 cycles after the last term.
//
// Buses (little-endian, element 0 in the lowest bits):
//   a_vec[r*A_W +: A_W], a_hi_vec[r*A_W +: A_W], w_vec[c*W_W +: W_W], bias_vec[c*ACC_W +: ACC_W],
//   acc_out[(r*COLS + c)*ACC_W +: ACC_W].
// rst (synchronous, active high) clears the valid pipeline only.
module yq_mac_array #(
    parameter ROWS  = 4,
    parameter COLS  = 4,
    parameter A_W   = 8,
    parameter W_W   = 8,
    parameter ACC_W = 32
) (
    input  wire                        clk,
    input  wire                        rst,
    input  wire                        in_valid,
    input  wire                        in_first,
    input  wire                        in_last,
    input  wire [ROWS*A_W-1:0]         a_vec,
    input  wire [ROWS*A_W-1:0]         a_hi_vec,
    input  wire [COLS*W_W-1:0]         w_vec,
    input  wire [COLS*ACC_W-1:0]       bias_vec,
    output reg                         out_valid,
    output wire [ROWS*COLS*ACC_W-1:0]  acc_out
);
    localparam PROD_W = A_W + W_W;

    // Stage 1 control and bias.
    reg                   v1, first1, last1;
    reg [COLS*ACC_W-1:0]  bias1;

    always @(posedge clk) begin
        first1 <= in_first;
        last1  <= in_last;
        bias1  <= bias_vec;
    end

    always @(posedge clk) begin
        if (rst) begin
            v1        <= 1'b0;
            out_valid <= 1'b0;
        end else begin
            v1        <= in_valid;
            out_valid <= v1 & last1;
        end
    end

    // One always block per stage over flat registers (cell i = r*COLS + c):
    // the cells then cost the simulator nothing in cycles without terms.
    reg  [ROWS*COLS*PROD_W-1:0] prod1;   // stage 1: products
    reg  [ROWS*COLS*ACC_W-1:0]  acc;     // stage 2: sums
    integer r, c, i;

    // Stage 1: product (the DSP multiplier register, enabled by in_valid).
    always @(posedge clk) begin
        if (in_valid) begin
            for (r = 0; r < ROWS; r = r + 1) begin
                for (c = 0; c < COLS; c = c + 1) begin
                    prod1[(r*COLS + c)*PROD_W +: PROD_W] <=
                        $signed(c >= COLS / 2 ? a_hi_vec[r*A_W +: A_W] : a_vec[r*A_W +: A_W]) * $signed(w_vec[c*W_W +: W_W]);
                end
            end
        end
    end

    // Stage 2: accumulate (product sign-extended to ACC_W).
    always @(posedge clk) begin
        if (v1) begin
            for (i = 0; i < ROWS*COLS; i = i + 1) begin
                acc[i*ACC_W +: ACC_W] <= (first1 ? bias1[(i % COLS)*ACC_W +: ACC_W] : acc[i*ACC_W +: ACC_W])
                                         + {{(ACC_W - PROD_W + 1){prod1[i*PROD_W + PROD_W - 1]}}, prod1[i*PROD_W +: PROD_W - 1]};
            end
        end
    end

    assign acc_out = acc;
endmodule
