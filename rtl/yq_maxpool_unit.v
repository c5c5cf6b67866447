// yq_maxpool_unit: the maximum of up to N signed codes, the compare step of
// the max-pool of docs/ARITHMETIC.md section 5 ("maximum of the codes inside
// the image; padding never wins"). A 5x5 stride-1 pool is two passes of this
// unit with N = 5 (rows, then columns): max is separable.
//
//   out = max { in[i] : mask[i] = 1 }, or the most negative code when no
//   lane is in the image (mask = 0; never happens for a 5x5 pad-2 pool).
//
// Lane i is in_vec[i*W +: W]; mask[i] = 0 marks a padding tap.
// Pipeline: one register stage, latency 1, one input per cycle.
// rst (synchronous, active high) clears the valid only.
module yq_maxpool_unit #(
    parameter N = 5,
    parameter W = 8
) (
    input  wire                 clk,
    input  wire                 rst,
    input  wire                 in_valid,
    input  wire [N*W-1:0]       in_vec,
    input  wire [N-1:0]         mask,
    output reg                  out_valid,
    output reg  signed [W-1:0]  out
);
    localparam signed [W-1:0] MIN_CODE = {1'b1, {(W-1){1'b0}}};

    reg signed [W-1:0] best;
    integer i;

    always @* begin
        best = MIN_CODE;
        for (i = 0; i < N; i = i + 1) begin
            if (mask[i] && ($signed(in_vec[i*W +: W]) > best)) best = in_vec[i*W +: W];
        end
    end

    always @(posedge clk) begin
        out <= best;
    end

    always @(posedge clk) begin
        if (rst) out_valid <= 1'b0;
        else     out_valid <= in_valid;
    end
endmodule
