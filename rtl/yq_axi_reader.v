// yq_axi_reader: AXI4 read master for one linear DRAM region. On start it
// reads `beats` beats of DATA_W bits from byte address `addr` (a multiple of
// DATA_W/8: the memory map aligns every region to the AXI data width,
// docs/ARTIFACTS.md section 3.1) and hands them out in address order as a
// valid/ready stream; out_last marks the request's final beat.
//
// Bursts. The request is cut into INCR bursts of full-width beats
// (ARSIZE = log2(DATA_W/8)), each at most 256 beats and never crossing a
// 4 KB boundary (AXI4). Read addresses are issued back to back, without
// waiting for data (the slave returns the bursts in order: one ID, 0); the
// R channel is the output stream itself (out_valid = RVALID, RREADY =
// out_ready), so a stalled consumer stalls the slave and no buffer is needed.
//
// Control: pulse start for one cycle with addr and beats valid while ready
// (ignored otherwise). ready is high when idle and, while busy, once every
// address of the requests taken so far is issued: a request started then
// queues behind them (its addresses follow at once, its beats follow theirs
// on the stream), so a consumer that starts its next request as soon as
// ready rises pays the DRAM latency once for a sequence of requests. busy is
// high until done pulses for one cycle, in the cycle after the last beat's
// handshake of all requests taken (at once for beats = 0 when idle). error
// (valid with done) is high when any beat since the reader was last idle
// came back with RRESP other than OKAY; the beats are delivered anyway. rst
// (synchronous, active high) returns to idle and drops ARVALID; it must not
// be used while a burst is outstanding.
//
// Parameters: DATA_W (AXI data width, 32 .. 1024, a power of two), ADDR_W
// (AXI address width).
module yq_axi_reader #(
    parameter DATA_W = 128,
    parameter ADDR_W = 32
) (
    input  wire              clk,
    input  wire              rst,
    input  wire              start,
    input  wire [ADDR_W-1:0] addr,
    input  wire [31:0]       beats,
    output wire              busy,
    output wire              ready,
    output reg               done,
    output reg               error,

    output wire              out_valid,
    input  wire              out_ready,
    output wire [DATA_W-1:0] out_data,
    output wire              out_last,

    output reg               m_arvalid,
    input  wire              m_arready,
    output reg  [ADDR_W-1:0] m_araddr,
    output reg  [7:0]        m_arlen,
    output wire [2:0]        m_arsize,
    output wire [1:0]        m_arburst,
    input  wire              m_rvalid,
    output wire              m_rready,
    input  wire [DATA_W-1:0] m_rdata,
    input  wire [1:0]        m_rresp,
    input  wire              m_rlast
);
    localparam BYTES = DATA_W / 8;
    localparam SIZE  = $clog2(BYTES);
    localparam [31:0] SIZE32 = SIZE;
    localparam [2:0] ARSIZE = SIZE32[2:0];
    localparam [31:0] MAX_BURST = 256;

    reg              running;
    reg [ADDR_W-1:0] next_addr;      // address of the next burst
    reg [31:0]       ar_left;        // beats not yet requested
    reg [31:0]       r_left;         // beats not yet received

    // The next burst: at most 256 beats, up to the 4 KB boundary.
    `include "yq_axi_burst.vh"
    wire [31:0] burst      = burst_beats(next_addr[11:0], ar_left);
    wire [31:0] burst_m1   = burst - 32'd1;
    wire [ADDR_W+31:0] burst_bytes = {{ADDR_W{1'b0}}, burst} << SIZE;

    assign busy      = running;
    assign ready     = !running || ar_left == 32'd0;
    assign m_arsize  = ARSIZE;
    assign m_arburst = 2'b01;   // INCR
    assign out_valid = running && m_rvalid;
    assign m_rready  = running && out_ready;
    assign out_data  = m_rdata;
    assign out_last  = (r_left == 32'd1);
    wire r_fire = m_rvalid && m_rready;
    wire take   = start && ready;

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            running   <= 1'b0;
            m_arvalid <= 1'b0;
            error     <= 1'b0;
        end else if (!running) begin
            if (take) begin
                next_addr <= addr;
                ar_left   <= beats;
                r_left    <= beats;
                error     <= 1'b0;
                running   <= (beats != 32'd0);
                done      <= (beats == 32'd0);
            end
        end else begin
            // Read addresses: a new burst once the previous one is accepted
            // (a request taken now has ar_left = 0 until the next edge).
            if (!m_arvalid || m_arready) begin
                if (ar_left != 32'd0) begin
                    m_arvalid <= 1'b1;
                    m_araddr  <= next_addr;
                    m_arlen   <= burst_m1[7:0];
                    next_addr <= next_addr + burst_bytes[ADDR_W-1:0];
                    ar_left   <= ar_left - burst;
                end else begin
                    m_arvalid <= 1'b0;
                end
            end
            if (take) begin
                next_addr <= addr;
                ar_left   <= beats;
            end
            // Read data: the beats of every request taken, in order.
            r_left <= r_left - (r_fire ? 32'd1 : 32'd0) + (take ? beats : 32'd0);
            if (r_fire && m_rresp != 2'b00) error <= 1'b1;
            if (r_fire && r_left == 32'd1 && !take) begin
                running <= 1'b0;
                done    <= 1'b1;
            end
        end
    end

    // The beat count, not RLAST, ends the request: RLAST carries nothing new.
    wire unused_ok = ^{m_rlast, burst_m1[31:8], burst_bytes[ADDR_W+31:ADDR_W]};
endmodule
