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
// KNOTS = 1: each half is one memory, port A writing or reading addr, port B
// reading addr + 1; when DEPTH is 2^k + 1 (the knots of an interpolated
// table), the memory holds entries 0 .. 2^k - 1 and a register the last (it
// is only ever read as the knot after entry 2^k - 1), so a 4,097-knot half
// takes one 4,096-word memory. KNOTS = 0: both halves are one memory, one port writing,
// the other reading addr (a write into the half being read is never asked
// for). Distributed RAM up to 512 entries a half, else block RAM; with
// URAM = 1 (UltraScale+ parts) UltraRAM: with KNOTS = 0 every lane, one
// URAM288 of up to 4,096 entries a half, with KNOTS = 1 halves deeper than
// 512 entries, one URAM288 each.
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
    // Small tables (the 256 entries of 8-bit pre-activations) in distributed
    // RAM, larger ones (--pre-bits) in block RAM, or in UltraRAM; only
    // synthesis reads it.
    /* verilator lint_off UNUSEDPARAM */
    localparam STYLE_DIRECT = (URAM != 0) ? "ultra" : (DEPTH <= DISTRIBUTED_MAX) ? "distributed" : "block";
    localparam STYLE_KNOTS = (DEPTH <= DISTRIBUTED_MAX) ? "distributed" : STYLE_DIRECT;
    /* verilator lint_on UNUSEDPARAM */

    generate
        if (KNOTS != 0) begin : g_knots
            // Three accesses a cycle (a write or entry addr, and entry addr + 1):
            // a memory a half, each with two ports, and the last knot's register.
            localparam LAST_IN_REG = DEPTH > 2 && ((DEPTH - 1) & (DEPTH - 2)) == 0;
            localparam MEM_DEPTH = LAST_IN_REG ? DEPTH - 1 : DEPTH;
            localparam MW = (MEM_DEPTH > 1) ? $clog2(MEM_DEPTH) : 1;
            localparam [31:0] MEM_DEPTH32 = MEM_DEPTH;
            (* ram_style = STYLE_KNOTS *) reg [W-1:0] half0 [0:MEM_DEPTH-1];
            (* ram_style = STYLE_KNOTS *) reg [W-1:0] half1 [0:MEM_DEPTH-1];
            reg [W-1:0] a0, a1, b0, b1, last0, last1;
            reg         hi0_q, hi1_q, last_q;
            wire        w_last = LAST_IN_REG && waddr == MEM_DEPTH32;
            always @(posedge clk) begin
                if (we && !whalf && !w_last) half0[waddr[MW-1:0]] <= wdata;
                else a0 <= half0[i0[MW-1:0]];
                if (we && whalf && !w_last) half1[waddr[MW-1:0]] <= wdata;
                else a1 <= half1[i0[MW-1:0]];
                if (we && !whalf && w_last) last0 <= wdata;
                if (we && whalf && w_last) last1 <= wdata;
                b0 <= half0[i1[MW-1:0]];
                b1 <= half1[i1[MW-1:0]];
                hi0_q <= hi0;
                hi1_q <= hi1;
                last_q <= LAST_IN_REG && i1 == MEM_DEPTH32;
            end
            assign data0 = hi0_q ? a1 : a0;
            assign data1 = last_q ? (hi1_q ? last1 : last0) : hi1_q ? b1 : b0;
            wire unused_high = ^{i0[31:MW], i1[31:MW]};
        end else begin : g_direct
            // Two accesses a cycle (a write, and entry addr): both halves in
            // one memory, half h at entries h * DEPTH.., one write port and
            // one read port (one URAM288 a lane with URAM = 1, up to 4,096
            // entries a half).
            (* ram_style = STYLE_DIRECT *) reg [W-1:0] halves [0:2*DEPTH-1];
            reg [W-1:0] a;
            always @(posedge clk) begin
                if (we) halves[{whalf, waddr[AW-1:0]}] <= wdata;
                a <= halves[{hi0, i0[AW-1:0]}];
            end
            assign data0 = a;
            assign data1 = a;
            wire unused_next = ^{hi1, i1};
        end
    endgenerate

    wire unused = ^{waddr[31:AW], i0[31:AW], i1[31:AW]};
endmodule
