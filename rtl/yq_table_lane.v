// yq_table_lane: one of yq_top's ROWS table lanes, the conv engine drain's
// table read for one row: its own copy of the running convolution's SiLU
// table, double-buffered (half h holds the table of the constants in half
// h). Entries of half h are at addresses h * DEPTH .. h * DEPTH + DEPTH - 1.
//
// Write: we writes wdata at entry waddr of half whalf (the loader, one entry
// a cycle; yq_top's issuer never loads a half while a band reads it).
// Read: data0 = entry addr, data1 = entry addr + 1 of the same half (the
// next knot of an interpolated table; with KNOTS = 0, when no table
// interpolates, data1 is data0: a direct table's fraction is 0, so its
// second entry is never used), one cycle later; the entry after a half's
// last, and an address past both halves, read anything.
//
// KNOTS = 1: the entries are in two memories, the even ones and the odd
// ones (entry e at e / 2 of its bank; half h's after half 0's), so that an
// entry and the next, one even and one odd, are one read of each: each
// memory has one write port and one read port. When DEPTH is 2^k + 1 (the
// knots of an interpolated table) the last entry, only ever read as the
// knot after entry 2^k - 1, is a register of its half, so the 4,097 knots
// of a 16-bit pre-activation's table take two memories of 2,048 entries a
// half. KNOTS = 0: both halves are one memory, one port writing, the other
// reading addr (a write into the half being read is never asked for).
// Distributed RAM up to 512 entries a half, else block RAM; with URAM = 1
// (UltraScale+ parts) UltraRAM: with KNOTS = 0 one URAM288 a lane (up to
// 4,096 entries a half), with KNOTS = 1 tables of more than 512 entries a
// half one URAM288 a bank, two a lane (up to 4,097 entries a half).
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

    wire        hi0 = (addr >= DEPTH32);
    wire [31:0] i0  = hi0 ? addr - DEPTH32 : addr;
    // Small tables (the 256 entries of 8-bit pre-activations) in distributed
    // RAM, larger ones (--pre-bits) in block RAM, or in UltraRAM; only
    // synthesis reads it.
    /* verilator lint_off UNUSEDPARAM */
    localparam STYLE_DIRECT = (URAM != 0) ? "ultra" : (DEPTH <= DISTRIBUTED_MAX) ? "distributed" : "block";
    localparam STYLE_KNOTS = (DEPTH <= DISTRIBUTED_MAX) ? "distributed" : STYLE_DIRECT;
    /* verilator lint_on UNUSEDPARAM */

    generate
        if (KNOTS != 0) begin : g_knots
            // Two banks of both halves (half h's entries from h * BANK), and
            // the last knot's register of each half.
            localparam LAST_IN_REG = DEPTH > 2 && ((DEPTH - 1) & (DEPTH - 2)) == 0;
            localparam MEM_DEPTH = LAST_IN_REG ? DEPTH - 1 : DEPTH;
            localparam BANK = (MEM_DEPTH + 1) / 2;           // entries of one half in a bank
            localparam BW = $clog2(2 * BANK);                // a bank's address
            localparam [31:0] BANK32 = BANK, MEM_DEPTH32 = MEM_DEPTH;
            (* ram_style = STYLE_KNOTS *) reg [W-1:0] even [0:2*BANK-1];
            (* ram_style = STYLE_KNOTS *) reg [W-1:0] odd  [0:2*BANK-1];
            reg [W-1:0] e_q, o_q, last0, last1;
            reg         odd_q, hi_q, last_q;
            wire        w_last = LAST_IN_REG && waddr == MEM_DEPTH32;
            wire [31:0] w_at   = (whalf ? BANK32 : 32'd0) + (waddr >> 1);
            // entry i0 and i0 + 1: the even one at (i0 + 1) / 2, the odd one at i0 / 2
            wire [31:0] r_even = (hi0 ? BANK32 : 32'd0) + ((i0 + 32'd1) >> 1);
            wire [31:0] r_odd  = (hi0 ? BANK32 : 32'd0) + (i0 >> 1);
            always @(posedge clk) begin
                if (we && !w_last && !waddr[0]) even[w_at[BW-1:0]] <= wdata;
                if (we && !w_last && waddr[0]) odd[w_at[BW-1:0]] <= wdata;
                if (we && w_last && !whalf) last0 <= wdata;
                if (we && w_last && whalf) last1 <= wdata;
                e_q    <= even[r_even[BW-1:0]];
                o_q    <= odd[r_odd[BW-1:0]];
                odd_q  <= i0[0];
                hi_q   <= hi0;
                last_q <= LAST_IN_REG && i0 + 32'd1 == MEM_DEPTH32;
            end
            assign data0 = odd_q ? o_q : e_q;
            assign data1 = last_q ? (hi_q ? last1 : last0) : odd_q ? e_q : o_q;
            wire unused_high = ^{w_at[31:BW], r_even[31:BW], r_odd[31:BW], waddr[31:AW], i0[31:AW]};
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
            wire unused = ^{waddr[31:AW], i0[31:AW]};
        end
    endgenerate
endmodule
