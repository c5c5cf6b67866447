// yq_axi_writer: AXI4 write master for one linear DRAM region, the mirror
// of yq_axi_reader. On start it writes `bytes` bytes from byte address
// `addr` (any byte: a band program's store starts mid-beat), taking the data
// as a valid/ready stream of full beats in address order, each beat the
// DATA_W/8 bytes from a multiple of DATA_W/8: beat 0 holds the bytes from
// addr rounded down, byte b of a beat at bits [8b +: 8], so
// ceil((addr % (DATA_W/8) + bytes) / (DATA_W/8)) beats.
//
// Bursts. The request is cut into INCR bursts of full-width beats
// (AWSIZE = log2(DATA_W/8)), each at most 256 beats and never crossing a
// 4 KB boundary (AXI4), exactly as the reader cuts reads. Write addresses
// are issued back to back, without waiting for data or responses (one ID,
// 0); the W channel is the input stream itself (WVALID = in_valid, in_ready
// = WREADY, WDATA = in_data), so a source that holds in_data while in_valid
// waits for in_ready meets AXI's rule that WDATA holds until WREADY. WLAST
// marks each burst's last beat; WSTRB is all ones except on the request's
// first beat, whose bytes before addr are off, and its last beat, whose
// bytes from addr + bytes on are off. AWADDR is beat-aligned. BREADY is high
// while busy.
//
// Control: pulse start for one cycle with addr and bytes valid while ready
// (ignored otherwise). ready is high when idle and, while busy, once every
// address and data beat of the requests taken so far is issued: a request
// started then queues behind them (its bursts go out while the earlier
// ones' write responses are still to come), so a source that starts its
// next request as soon as ready rises pays the response latency once for a
// sequence of requests. busy is high until done pulses for one cycle, in the
// cycle after the last write response of all requests taken (at once for
// bytes = 0 when idle). error (valid with done) is high when any burst's
// BRESP since the writer was last idle was not OKAY (SLVERR, DECERR). rst
// (synchronous, active high) returns to idle and drops AWVALID; it must not
// be used while a burst is outstanding.
//
// Parameters: DATA_W (AXI data width, 32 .. 1024, a power of two), ADDR_W
// (AXI address width).
module yq_axi_writer #(
    parameter DATA_W = 128,
    parameter ADDR_W = 32
) (
    input  wire                clk,
    input  wire                rst,
    input  wire                start,
    input  wire [ADDR_W-1:0]   addr,
    input  wire [31:0]         bytes,
    output wire                busy,
    output wire                ready,
    output reg                 done,
    output reg                 error,

    input  wire                in_valid,
    output wire                in_ready,
    input  wire [DATA_W-1:0]   in_data,

    output reg                 m_awvalid,
    input  wire                m_awready,
    output reg  [ADDR_W-1:0]   m_awaddr,
    output reg  [7:0]          m_awlen,
    output wire [2:0]          m_awsize,
    output wire [1:0]          m_awburst,
    output wire                m_wvalid,
    input  wire                m_wready,
    output wire [DATA_W-1:0]   m_wdata,
    output wire [DATA_W/8-1:0] m_wstrb,
    output wire                m_wlast,
    input  wire                m_bvalid,
    output wire                m_bready,
    input  wire [1:0]          m_bresp
);
    localparam BYTES = DATA_W / 8;
    localparam SIZE  = $clog2(BYTES);
    localparam [31:0] SIZE32 = SIZE;
    localparam [31:0] BYTES32 = BYTES;
    localparam [2:0] AWSIZE = SIZE32[2:0];
    localparam [31:0] MAX_BURST = 256;

    reg              running;
    reg [ADDR_W-1:0] aw_next;        // address of the next burst to issue
    reg [31:0]       aw_left;        // beats not yet covered by an issued burst
    reg [ADDR_W-1:0] w_next;         // address of the next data beat
    reg [31:0]       w_left;         // beats not yet sent
    reg [31:0]       w_burst_left;   // beats left in the current W burst (0: a new one starts)
    reg [31:0]       bursts_issued;  // AW handshakes so far
    reg [31:0]       responses;      // B handshakes so far
    reg [SIZE:0]     last_bytes;     // strobed bytes of the last beat (1 .. BYTES)
    reg [SIZE:0]     first_skip;     // bytes of the first beat before addr (0 .. BYTES - 1)
    reg              first_beat;     // the next data beat is the request's first

    // burst_beats(page offset, beats left): the AW and W sides cut the same bursts.
    `include "yq_axi_burst.vh"

    wire [31:0] aw_burst    = burst_beats(aw_next[11:0], aw_left);
    wire [31:0] aw_burst_m1 = aw_burst - 32'd1;
    wire [ADDR_W+31:0] aw_burst_bytes = {{ADDR_W{1'b0}}, aw_burst} << SIZE;
    wire [ADDR_W+31:0] beat_step = {{ADDR_W{1'b0}}, BYTES32};
    wire [31:0] w_burst     = (w_burst_left != 32'd0) ? w_burst_left : burst_beats(w_next[11:0], w_left);

    wire [31:0] start_skip  = {{(32-SIZE){1'b0}}, addr[SIZE-1:0]};
    wire [31:0] start_span  = start_skip + bytes;
    wire [31:0] start_beats = (bytes == 32'd0) ? 32'd0 : (start_span + BYTES - 1) >> SIZE;
    wire [31:0] start_tail  = start_span & (BYTES - 1);
    wire [ADDR_W-1:0] start_aligned = {addr[ADDR_W-1:SIZE], {SIZE{1'b0}}};

    assign busy      = running;
    assign ready     = !running || (aw_left == 32'd0 && w_left == 32'd0);
    assign m_awsize  = AWSIZE;
    assign m_awburst = 2'b01;   // INCR
    assign m_wvalid  = running && w_left != 32'd0 && in_valid;
    assign in_ready  = running && w_left != 32'd0 && m_wready;
    assign m_wdata   = in_data;
    assign m_wlast   = (w_burst == 32'd1);
    assign m_bready  = running;
    genvar i;
    generate
        for (i = 0; i < BYTES; i = i + 1) begin : g_strobe
            assign m_wstrb[i] = ((w_left != 32'd1) || (i < last_bytes)) && (!first_beat || i >= first_skip);
        end
    endgenerate
    wire w_fire = m_wvalid && m_wready;
    wire b_fire = m_bvalid && m_bready;
    wire take   = start && ready;
    wire [31:0] responses_next = responses + {31'd0, b_fire};

    // A request's own registers (the response count and error span requests).
    task take_request;
        begin
            aw_next      <= start_aligned;
            aw_left      <= start_beats;
            w_next       <= start_aligned;
            first_skip   <= start_skip[SIZE:0];
            first_beat   <= 1'b1;
            w_left       <= start_beats;
            w_burst_left <= 32'd0;
            last_bytes   <= (start_tail == 32'd0) ? BYTES32[SIZE:0] : start_tail[SIZE:0];
        end
    endtask

    always @(posedge clk) begin
        done <= 1'b0;
        if (rst) begin
            running   <= 1'b0;
            m_awvalid <= 1'b0;
            error     <= 1'b0;
        end else if (!running) begin
            if (take) begin
                take_request();
                bursts_issued <= 32'd0;
                responses     <= 32'd0;
                error         <= 1'b0;
                running       <= (start_beats != 32'd0);
                done          <= (start_beats == 32'd0);
            end
        end else begin
            // A request queued behind the issued ones (aw_left = w_left = 0:
            // the blocks below leave its registers alone this cycle).
            if (take) take_request();
            // Write addresses: a new burst once the previous one is accepted.
            if (!m_awvalid || m_awready) begin
                if (aw_left != 32'd0) begin
                    m_awvalid <= 1'b1;
                    m_awaddr  <= aw_next;
                    m_awlen   <= aw_burst_m1[7:0];
                    aw_next   <= aw_next + aw_burst_bytes[ADDR_W-1:0];
                    aw_left   <= aw_left - aw_burst;
                end else begin
                    m_awvalid <= 1'b0;
                end
            end
            if (m_awvalid && m_awready) bursts_issued <= bursts_issued + 32'd1;
            // Write data.
            if (w_fire) begin
                first_beat   <= 1'b0;
                w_left       <= w_left - 32'd1;
                w_next       <= w_next + beat_step[ADDR_W-1:0];
                w_burst_left <= w_burst - 32'd1;
            end
            // Write responses: done after the last burst's.
            if (b_fire) begin
                responses <= responses_next;
                if (m_bresp != 2'b00) error <= 1'b1;
            end
            if (aw_left == 32'd0 && !m_awvalid && w_left == 32'd0 && responses_next == bursts_issued && !take) begin
                running <= 1'b0;
                done    <= 1'b1;
            end
        end
    end

    wire unused_ok = ^{aw_burst_m1[31:8], aw_burst_bytes[ADDR_W+31:ADDR_W], beat_step[ADDR_W+31:ADDR_W], start_tail[31:SIZE],
                       start_skip[31:SIZE+1]};
endmodule
