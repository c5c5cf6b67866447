// yq_table_lane: one of yq_top's ROWS table lanes, the conv engine drain's
// table read for one row: its own copy of the running convolution's SiLU
// table, double-buffered (half h holds the table of the constants in half
// h). Entries of half h are at addresses h * DEPTH .. h * DEPTH + DEPTH - 1.
//
// Write: we writes wdata at entry waddr of half whalf (the loader, one entry
// a cycle; yq_top's issuer never loads a half while a band reads it).
// Read: data0 = entry addr, data1 = entry addr + 1 (the next knot of an
// interpolated table; with KNOTS = 0, when no table interpolates, data1 is
// data0: a direct table's fraction is 0, so its second entry is never
// used), one cycle later; an address past both halves reads anything.
//
// Each half is one memory, port A writing or reading addr, port B (KNOTS)
// reading addr + 1: distributed RAM up to 512 entries, else block RAM, or
// with URAM = 1 UltraRAM (UltraScale+ parts: one URAM288 a half of up to
// 4,096 entries when KNOTS = 0).
module yq_table_lane #(
    parameter DEPTH = 256,
    parameter W     = 16,
    parameter KNOTS = 1,
    parameter URAM  = 0
) (
    input  wire          clk,
    input  wire          we,
    input  wire          whalf,
    input  wire [31:0]   waddr,
    input  wire [W-1:0]  wdata,
    input  wire [31:0]   addr,
    output wire [W-1:0]  data0,
    output wire [W-1:0]  data1
);
    localparam AW = (DEPTH > 1) ? $clog2(DEPTH) : 1;
    localparam [31:0] DEPTH32 = DEPTH;
    localparam DISTRIBUTED_MAX = 512;

    wire [31:0] next  = addr + 32'd1;
    wire        hi0   = (addr >= DEPTH32), hi1 = (next >= DEPTH32);
    wire [31:0] i0    = hi0 ? addr - DEPTH32 : addr;
    wire [31:0] i1    = hi1 ? next - DEPTH32 : next;
    reg  [W-1:0] a0, a1;
    reg          hi0_q;
    // Small tables (the 256 entries of 8-bit pre-activations) in distributed
    // RAM, larger ones (--pre-bits) in block RAM or UltraRAM; only synthesis
    // reads it.
    /* verilator lint_off UNUSEDPARAM */
    localparam STYLE = (DEPTH <= DISTRIBUTED_MAX) ? "distributed" : (URAM != 0) ? "ultra" : "block";
    /* verilator lint_on UNUSEDPARAM */
    (* ram_style = STYLE *) reg [W-1:0] half0 [0:DEPTH-1];
    (* ram_style = STYLE *) reg [W-1:0] half1 [0:DEPTH-1];
    always @(posedge clk) begin
        if (we && !whalf) half0[waddr[AW-1:0]] <= wdata;
        else a0 <= half0[i0[AW-1:0]];
        if (we && whalf) half1[waddr[AW-1:0]] <= wdata;
        else a1 <= half1[i0[AW-1:0]];
        hi0_q <= hi0;
    end
    assign data0 = hi0_q ? a1 : a0;

    generate
        if (KNOTS != 0) begin : g_knots
            reg [W-1:0] b0, b1;
            reg         hi1_q;
            always @(posedge clk) begin
                b0 <= half0[i1[AW-1:0]];
                b1 <= half1[i1[AW-1:0]];
                hi1_q <= hi1;
            end
            assign data1 = hi1_q ? b1 : b0;
        end else begin : g_direct
            assign data1 = data0;
            wire unused_next = ^{hi1, i1};
        end
    endgenerate

    wire unused = ^{waddr[31:AW], i0[31:AW], i1[31:AW]};
endmodule
