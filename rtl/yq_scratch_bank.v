// yq_scratch_bank: one bank of one half of the scratch memory (rtl/yq_scratch.v):
// DEPTH words of FW bits, port A writes or reads (a write reads nothing: q_a
// keeps its value), port B reads. Reads are synchronous. Block RAM maps it
// as a true dual-port RAM; a board build may put a vendor macro here.
module yq_scratch_bank #(
    parameter DEPTH = 4096,
    parameter FW    = 8,
    parameter AW    = $clog2(DEPTH)
) (
    input  wire          clk,
    input  wire          we_a,
    input  wire          re_a,
    input  wire [AW-1:0] addr_a,
    input  wire [FW-1:0] wdata_a,
    output reg  [FW-1:0] q_a,
    input  wire          re_b,
    input  wire [AW-1:0] addr_b,
    output reg  [FW-1:0] q_b
);
    reg [FW-1:0] mem [0:DEPTH-1];
    always @(posedge clk) begin
        if (we_a)      mem[addr_a] <= wdata_a;
        else if (re_a) q_a <= mem[addr_a];
        if (re_b)      q_b <= mem[addr_b];
    end
endmodule
