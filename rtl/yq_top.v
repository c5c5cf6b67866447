// yq_top: the accelerator as an IP (docs/RTL.md). It runs stage_7's band
// program (docs/ARTIFACTS.md section 14): feature maps live in DRAM, the
// engines read and write only an on-chip scratch memory of input-band and
// output-band halves. One AXI4 master does all DRAM traffic (read channel:
// INCR bursts through rtl/yq_axi_reader.v; write channel: rtl/yq_axi_writer.v),
// one AXI4-Lite slave holds the registers; irq rises when a frame ends.
//
// Schedule of a frame:
//   1. the LUT directory and the LUT words into on-chip tables;
//   2. every node's layer-program descriptor once, as one read: its out_c
//      (the element-wise engine reads a concat input's channels) and the
//      head convolutions' configuration of the detect head (an op code past
//      YQ_OP_UPSAMPLE stops the frame: ERR_DESC at the first such node);
//   3. the band program, one instruction (a YQ_DRAM_BAND_PROGRAM_SLOT_BITS
//      slot) after the other from YQ_DRAM_BAND_PROGRAM_BASE, fetched eight
//      at a time (one read) into an instruction buffer:
//      load      `channels` runs of `words` feature-map slots (narrow or
//                wide, as its slot_log2 says) from DRAM into
//                the scratch memory, or all as one run when they follow each
//                other in DRAM and in the scratch memory; each run is one
//                read request, issued while the runs before it still return
//                data (the loader writes a beat's words per cycle);
//      upsample_load  a load whose runs are rows of row_words words, each
//                written twice (rows 2j, 2j + 1) with each word twice (2x,
//                2x + 1): the loader hands a beat on in segments of at most
//                half its write within one row, each segment in two cycles,
//                the beat held on the R channel meanwhile (row_words 0, or a
//                run ending inside a row: ERR_DESC);
//      store     goes to the store unit, which writes its runs from the
//                scratch memory to DRAM (a beat of words per cycle, from any
//                byte: the writer strobes the first and last beats) while the
//                issuer goes on; one store at a time, and an instruction
//                writing the half it reads waits for it;
//      constants the node's weights, biases and requant words (from its
//                layer-program descriptor) into the constant half `half` of
//                the weight / bias / requant buffers (more than a half holds
//                stops the frame: ERR_BUFFER);
//      run       the band descriptor to the conv or element-wise engine, which
//                runs while the following instructions issue: an instruction
//                that writes a half the running band reads or writes, or reads
//                a half it writes (the reads / writes fields), and any other
//                run, head or end, waits for it; so loads of the next band,
//                the previous band's store and the next node's constants
//                overlap the engine;
//      copy      `channels` runs of `words` scratch words from an output half
//                (from dram_address, each run dram_stride words further)
//                into an input half (scratch_word, scratch_stride): the rows
//                a band reads that the band before wrote, taken where that
//                band's Run left them instead of through DRAM; it waits for
//                the engines to stop, reads min(ROWS, a beat's words) words a
//                cycle on lane set A and writes them through the loader's
//                port (a copy after the detect head started: ERR_DESC);
//      head      the detect head (started at the first) on one band of rows of
//                a level in the scratch memory, once it is done with the band
//                before; it works while the following instructions issue
//                (the next band's loads), and one that writes the band's
//                half waits for it;
//      end       q_NMS finishes, then the detection list goes from the head's
//                result memory to DRAM at YQ_DRAM_DETECTIONS_BASE: slot 0 the
//                count (YQ_DET_LIST_COUNT_*), slots 1 .. count the records
//                (YQ_DET_*), each YQ_DRAM_DETECTIONS_SLOT_BITS wide, bits above
//                the record 0; slots past the count are not written;
//      a load or store outside the scratch memory stops the frame
//      (ERR_BUFFER), an unknown instruction or a run of a descriptor the
//      engines do not run ERR_DESC; a load with the barrier, and the end,
//      wait for the store unit to finish (its last write response);
//   4. done (and irq when enabled) after the list's last write response, or
//      at the first error: an error found while a band runs or a store
//      writes is reported once they (and a head band) are over, the first in program order
//      (a failed store, then a failed band, then the issuer's own);
//      no AXI burst is left outstanding when the frame stops.
// Every memory has the ports of block or distributed RAM: the scratch
// memory (rtl/yq_scratch.v) is four halves of 2 * ROWS word-interleaved
// dual-port banks, port A for the engines' read lanes (set A), their write
// and the loader, port B for the add's second lane set and the store unit
// (which reads each beat a cycle ahead into a two-beat buffer); the weight buffer is one memory of YQ_WEIGHT_GROUP-weight rows (a
// row read a cycle, whole rows written); each of the ROWS table lanes has
// its own two halves of the running convolution's SiLU table (a Constants
// instruction loads them); the LUT directory, table, bias and requant
// memories take one word a cycle from the loader.
//
// AXI4-Lite registers (32 bits, byte offsets; reads of other offsets are 0):
//   0x00 CONTROL  W: bit 0 start a frame (ignored while busy), bit 1 irq enable
//   0x04 STATUS   R: bit 0 busy, bit 1 done, bit 2 error; W: bit 1 = 1 clears
//                 done and error (and so irq)
//   0x08 ERROR    R: [7:0] code (ERR_*), [31:16] failing node
//   0x0C DRAM_BASE R/W: byte address added to every DRAM address
//   0x10 CYCLES   R: cycles of the last frame (start to done)
//   0x14 STALLS   R: cycles of it with no engine running (the head counts as
//                 one; the rest wait on DRAM: loads, stores, the list)
//   0x18 BYTES_READ R: bytes of read data received by the master
//   0x1C NODE     R: the node whose band runs, else the node of the
//                 instruction (or layer-program descriptor) being handled
//   0x20 DET_COUNT R: detections of the last frame (the list's word 0)
//   0x24 DET_INDEX R/W: the detection the window shows (0 .. DET_COUNT-1)
//   0x28 HEAD_CYCLES R: cycles of the last frame's detect head and q_NMS
//   0x2C BYTES_WRITTEN R: bytes written by the master (strobed bytes of the
//                 write beats taken)
//   0x30 ISSUER   R: what the issuer does now (for profiles and hangs):
//                 [4:0] its state: 6 deciding whether the instruction held
//                 can issue (it waits there on a running band, the store
//                 unit, a barrier or, at a Head, the head's band before),
//                 21 waiting for the loader, 14 a Run whose band
//                 descriptor is in waiting for the band before to end,
//                 others brief; [8:5] the loader's
//                 destination: 2 descriptor, 3-5 and 8 constants (weights,
//                 biases, requant words, the SiLU table), 6 scratch (a
//                 band's load), 7 instruction, 0-1 the frame's tables,
//                 9 the frame's layer-program descriptors;
//                 [23:16] the op of the instruction held (YQ_BAND_OP_*)
//   0x40 + 4k DET_WORD k R (k < YQ_DET_WORD_BITS / 32): bits [32k +: 32] of
//                 detection DET_INDEX's record (yq_format.vh YQ_DET_*, as a
//                 slot of the DRAM detection list), valid from the cycle
//                 after DET_INDEX is written
// Error codes: 1 DRAM read response not OKAY, 2 bad descriptor or
// instruction, 3 a layer's words exceed a buffer (or an instruction the
// scratch memory), 4 an engine refused the descriptor, 5 the detect
// head's q_NMS had more candidates than HEAD_MAX_CAND (node YQ_NUM_LAYERS:
// the head; the list holds the best of the first HEAD_MAX_CAND only), 6 DRAM
// write response not OKAY while storing a band (its node) or writing the
// detection list (node YQ_NUM_LAYERS), 7 a cycle asked a scratch bank's
// port for two words (the running band's node, else the detect head's, else
// the instruction's: a compiler or engine bug, reported like an engine's;
// never with SCRATCH_CHECK = 0, a board build's option).
//
// rst: synchronous, active high. Widths and field positions come from
// yq_format.vh, memory sizes and DRAM addresses from the run's yq_params.vh.
module yq_top #(
    parameter ROWS = 8,
    parameter COLS = 8,
    parameter AXI_DATA_W = 128,
    parameter AXI_ADDR_W = 32,
    parameter WBUF_DEPTH = 65536,  // weight words of one layer (each buffer half); stage_7's YQ_WEIGHT_BUFFER_DEPTH
    parameter HEAD_MAX_CAND = 1024, // q_NMS candidate capacity
    parameter HEAD_LANES = ROWS,   // the detect head's feature-map read lanes (<= ROWS)
    parameter SCRATCH_CHECK = 1,   // the scratch memory checks its banks' use (error 7); 0 leaves the check out
    parameter CONV_TWIN = (COLS >= 32) ? 1 : 0,  // the conv engine's twin tiles (narrow channel tiles on both column halves)
    parameter TABLE_URAM = 0       // table lanes in UltraRAM (UltraScale+): each lane, one URAM288, when no table interpolates,
                                   // else halves deeper than 512 entries (rtl/yq_table_lane.v)
) (
    input  wire                    clk,
    input  wire                    rst,
    output wire                    irq,

    // AXI4-Lite slave
    input  wire                    s_awvalid,
    output wire                    s_awready,
    input  wire [7:0]              s_awaddr,
    input  wire                    s_wvalid,
    output wire                    s_wready,
    input  wire [31:0]             s_wdata,
    output reg                     s_bvalid,
    input  wire                    s_bready,
    output wire [1:0]              s_bresp,
    input  wire                    s_arvalid,
    output wire                    s_arready,
    input  wire [7:0]              s_araddr,
    output reg                     s_rvalid,
    input  wire                    s_rready,
    output reg  [31:0]             s_rdata,
    output wire [1:0]              s_rresp,

    // AXI4 master, read channel
    output wire                    m_arvalid,
    input  wire                    m_arready,
    output wire [AXI_ADDR_W-1:0]   m_araddr,
    output wire [7:0]              m_arlen,
    output wire [2:0]              m_arsize,
    output wire [1:0]              m_arburst,
    input  wire                    m_rvalid,
    output wire                    m_rready,
    input  wire [AXI_DATA_W-1:0]   m_rdata,
    input  wire [1:0]              m_rresp,
    input  wire                    m_rlast,

    // AXI4 master, write channel
    output wire                    m_awvalid,
    input  wire                    m_awready,
    output wire [AXI_ADDR_W-1:0]   m_awaddr,
    output wire [7:0]              m_awlen,
    output wire [2:0]              m_awsize,
    output wire [1:0]              m_awburst,
    output wire                    m_wvalid,
    input  wire                    m_wready,
    output wire [AXI_DATA_W-1:0]   m_wdata,
    output wire [AXI_DATA_W/8-1:0] m_wstrb,
    output wire                    m_wlast,
    input  wire                    m_bvalid,
    output wire                    m_bready,
    input  wire [1:0]              m_bresp
);
    /* verilator lint_off UNUSEDPARAM */
    `include "yq_format.vh"
    `include "yq_params.vh"
    `include "yq_lane_step.vh"
    /* verilator lint_on UNUSEDPARAM */

    localparam FW = YQ_FMAP_WIDTH;
    localparam NODE_W = YQ_PROG_NODE_WIDTH;
    localparam DESC_W = YQ_PROG_WORD_BITS;
    localparam BEAT_BYTES = AXI_DATA_W / 8;
    localparam BEAT_LOG2 = $clog2(AXI_DATA_W);
    // The loader's assembly register: the widest slot, at least one beat.
    localparam SR_W = (YQ_DRAM_PROGRAM_SLOT_BITS > AXI_DATA_W) ? YQ_DRAM_PROGRAM_SLOT_BITS : AXI_DATA_W;
    // One layer's words of each buffer; the buffers hold two such halves.
    localparam BBUF_DEPTH = YQ_BIAS_BUFFER_DEPTH;
    localparam TBUF_DEPTH = YQ_TABLE_BUFFER_DEPTH;    // a SiLU table: each half of every table lane
    localparam RQBUF_DEPTH = YQ_REQUANT_BUFFER_DEPTH;
    localparam B_AW = $clog2(2 * BBUF_DEPTH), RQ_AW = $clog2(2 * RQBUF_DEPTH);
    // The conv engine's lane addresses: the scratch memory's words, and one
    // bit more, so that a run's words past its end stay past it.
    localparam SCRATCH_ADDR_W = $clog2(YQ_SCRATCH_WORDS) + 1;

    localparam [7:0] ERR_NONE = 8'd0, ERR_DRAM = 8'd1, ERR_DESC = 8'd2, ERR_BUFFER = 8'd3, ERR_ENGINE = 8'd4,
                     ERR_HEAD_OVERFLOW = 8'd5, ERR_DRAM_WRITE = 8'd6, ERR_BANK = 8'd7;
    localparam DET_ADDR_W = $clog2(YQ_MAX_DETECTIONS + 1);
    localparam DET_WORDS = YQ_DET_WORD_BITS / 32;

    initial begin
        if (YQ_PARAMS_FORMAT_VERSION != YQ_FORMAT_VERSION)
            $fatal(1, "yq_top: the emission is format version %0d, the RTL's yq_format.vh %0d",
                   YQ_PARAMS_FORMAT_VERSION, YQ_FORMAT_VERSION);
        if (HEAD_LANES < 1 || HEAD_LANES > ROWS)
            $fatal(1, "yq_top: HEAD_LANES %0d, the scratch memory has %0d read lanes", HEAD_LANES, ROWS);
        if (AXI_DATA_W != YQ_AXI_DATA_BITS)
            $fatal(1, "yq_top: AXI_DATA_W %0d, the DRAM image is aligned for %0d", AXI_DATA_W, YQ_AXI_DATA_BITS);
        if (WBUF_DEPTH % YQ_WEIGHT_GROUP != 0)
            $fatal(1, "yq_top: WBUF_DEPTH %0d is not whole weight rows of %0d", WBUF_DEPTH, YQ_WEIGHT_GROUP);
        if (PB_WEIGHT > YQ_WEIGHT_GROUP)
            $fatal(1, "yq_top: a beat carries %0d weights, more than a weight row's %0d", PB_WEIGHT, YQ_WEIGHT_GROUP);
    end

    // ------------------------------------------------------------------
    // On-chip memories.
    reg [YQ_LUT_DIR_WIDTH-1:0] lutdir_mem [0:YQ_LUT_DIR_DEPTH-1];
    // The detect head's sigmoid and exp tables: entries YQ_HEAD_LUT_BASE on
    // of the table memory (the SiLU tables before them go to the table lanes).
    localparam HEAD_LUT_AW = (YQ_HEAD_LUT_DEPTH > 1) ? $clog2(YQ_HEAD_LUT_DEPTH) : 1;
    reg [YQ_LUT_WIDTH-1:0]     head_lut   [0:YQ_HEAD_LUT_DEPTH-1];
    localparam LOG_GROUP = $clog2(YQ_WEIGHT_GROUP);
    reg [YQ_BIAS_WIDTH-1:0]    bbuf       [0:2*BBUF_DEPTH-1];
    reg [YQ_REQUANT_WIDTH-1:0] rqbuf      [0:2*RQBUF_DEPTH-1];
    reg [YQ_PROG_OUT_C_WIDTH-1:0] outc_mem [0:YQ_PROGRAM_DEPTH-1];   // each fetched node's out_c (concat)
    // The frame's layer-program descriptors arrive one after the other in
    // desc_raw; each is noted the cycle after (prog_note, node prog_index):
    // its out_c, the head's configuration, and the first bad op code.
    reg              prog_note;
    reg [NODE_W-1:0] prog_index;
    reg              prog_bad;
    reg [NODE_W-1:0] prog_bad_node;

    // ------------------------------------------------------------------
    // Registers (AXI4-Lite).
    reg         irq_enable, frame_done, frame_error, start_req;
    reg  [7:0]  error_code;
    reg  [NODE_W-1:0] error_node;
    reg  [31:0] dram_base, cycles, stalls, bytes_read, bytes_written;
    reg  [NODE_W-1:0] node;         // the node of the instruction (or program descriptor) being handled
    reg  [NODE_W-1:0] run_node /*verilator public_flat_rd*/;  // the node whose engine runs (job_running)
    reg         job_running;
    wire        busy;
    wire [23:0] issuer;             // the ISSUER register's bits
    reg  [31:0] det_index, head_cycles;
    wire [31:0] det_count;
    wire [YQ_DET_WORD_BITS-1:0] det_record;
    wire [7:0]  det_offset = s_araddr - 8'h40;
    wire [31:0] det_word = {26'd0, det_offset[7:2]};
    assign irq = irq_enable && (frame_done || frame_error);

    wire aw_fire = s_awvalid && s_wvalid && !s_bvalid;
    assign s_awready = aw_fire;
    assign s_wready  = aw_fire;
    assign s_bresp   = 2'b00;
    assign s_arready = !s_rvalid;
    assign s_rresp   = 2'b00;

    always @(posedge clk) begin
        start_req <= 1'b0;
        if (rst) begin
            s_bvalid   <= 1'b0;
            s_rvalid   <= 1'b0;
            irq_enable <= 1'b0;
            dram_base  <= 32'd0;
            det_index  <= 32'd0;
        end else begin
            if (aw_fire) begin
                s_bvalid <= 1'b1;
                case (s_awaddr)
                    8'h00: begin
                        start_req  <= s_wdata[0];
                        irq_enable <= s_wdata[1];
                    end
                    8'h0C: dram_base <= s_wdata;
                    8'h24: det_index <= s_wdata;
                    default: ;
                endcase
            end else if (s_bready) begin
                s_bvalid <= 1'b0;
            end
            if (s_arvalid && !s_rvalid) begin
                s_rvalid <= 1'b1;
                case (s_araddr)
                    8'h00: s_rdata <= {30'd0, irq_enable, 1'b0};
                    8'h04: s_rdata <= {29'd0, frame_error, frame_done, busy};
                    8'h08: s_rdata <= {error_node, 8'd0, error_code};
                    8'h0C: s_rdata <= dram_base;
                    8'h10: s_rdata <= cycles;
                    8'h14: s_rdata <= stalls;
                    8'h18: s_rdata <= bytes_read;
                    8'h1C: s_rdata <= {{(32-NODE_W){1'b0}}, job_running ? run_node : node};
                    8'h20: s_rdata <= det_count;
                    8'h24: s_rdata <= det_index;
                    8'h28: s_rdata <= head_cycles;
                    8'h2C: s_rdata <= bytes_written;
                    8'h30: s_rdata <= {8'd0, issuer};
                    default: s_rdata <= (s_araddr >= 8'h40 && s_araddr[1:0] == 2'b00 && det_word < DET_WORDS)
                                        ? det_record[det_word * 32 +: 32] : 32'd0;
                endcase
            end else if (s_rready) begin
                s_rvalid <= 1'b0;
            end
        end
    end
    wire clear_status = aw_fire && s_awaddr == 8'h04 && s_wdata[1];

    // ------------------------------------------------------------------
    // Loader: ld_runs runs of `ld_words` words of 2^ld_slot_log2 bits, the
    // first from DRAM word slot `ld_first` of a region at byte ld_region, each
    // next ld_stride bytes further (a load instruction's channels; other
    // loads are one run). Slots no wider than a beat: each beat is one
    // ld_valid pulse carrying ld_n words (ld_word, word k at bit k * slot; a
    // run's first beat may start some words in, its last may hold fewer),
    // written in one cycle; wider slots (one run only) are assembled from
    // consecutive beats, one word (ld_n = 1) per pulse. ld_count counts the
    // words written since ld_start; a scratch load writes them from
    // ld_scratch_base, each next run ld_sstride words further (ld_sc_addr:
    // the scratch word of ld_word's first word).
    // Each run is one reader request, started as soon as the reader has
    // issued the previous one's addresses: the runs' bursts follow each other
    // without waiting for data, so a load pays the DRAM latency once.
    localparam [3:0] DST_LUTDIR = 4'd0, DST_LUT = 4'd1, DST_DESC = 4'd2, DST_WEIGHT = 4'd3, DST_BIAS = 4'd4,
                     DST_REQUANT = 4'd5, DST_SCRATCH = 4'd6, DST_INSTR = 4'd7, DST_TABLE = 4'd8, DST_PROGRAM = 4'd9;
    reg         ld_start;
    reg  [3:0]  ld_dst;
    reg  [31:0] ld_region, ld_first, ld_words, ld_scratch_base;
    reg  [31:0] ld_runs, ld_stride, ld_sstride;
    reg  [4:0]  ld_slot_log2;
    // An UpsampleLoad (ld_up): each run is rows of ld_row_words words; a
    // beat's words go out in segments of at most UP_SEG words within one
    // row, each segment twice (up_second: into the row's second copy), each
    // word twice (ld_dup: into words 2x and 2x + 1).
    localparam UP_ROW_W = YQ_BAND_ROW_WORDS_WIDTH;
    reg         ld_up;
    reg  [UP_ROW_W-1:0] ld_row_words;
    reg         up_second;
    reg  [UP_ROW_W-1:0] up_col_left;   // words of the current row not yet written twice
    reg         ld_rows_bad;            // a run ended inside a row
    reg         ld_dup;
    wire        rd_busy, rd_ready_req, rd_done, rd_error, rd_valid, rd_last;
    wire [AXI_DATA_W-1:0] rd_data;
    reg         rd_ready;

    // The bits of a run's first beat before its first word, from the low
    // bits of that word's byte address; the first run's address.
    function [31:0] skip_bits_of(input [BEAT_LOG2-4:0] byte_in_beat);
        skip_bits_of = {{(32-BEAT_LOG2+3){1'b0}}, byte_in_beat} << 3;
    endfunction
    wire [31:0] ld_byte = ld_region + (ld_first << (ld_slot_log2 - 5'd3));

    // Request side: the next run's beat-aligned start and beat count.
    reg  [31:0] rq_byte;            // the next run to request: its first word's byte address
    reg  [31:0] rq_runs_left;       // runs not yet requested
    wire [31:0] rq_bits      = skip_bits_of(rq_byte[BEAT_LOG2-4:0]) + (ld_words << ld_slot_log2);
    wire [31:0] rq_beats     = (rq_bits + AXI_DATA_W - 1) >> BEAT_LOG2;
    wire [31:0] rq_aligned   = {rq_byte[31:BEAT_LOG2-3], {(BEAT_LOG2-3){1'b0}}};
    wire [31:0] rd_addr_full = dram_base + rq_aligned;

    reg         ld_active /*verilator public_flat_rd*/;
    wire        rd_start = ld_active && rq_runs_left != 32'd0 && rd_ready_req;
    reg  [SR_W-1:0] sr;             // a wide word being assembled
    reg  [31:0] sr_bits;            // bits of it assembled
    reg  [31:0] ld_n;               // words in ld_word
    reg  [31:0] ld_skip_left;       // bits of the run's first beat before its first word
    reg  [31:0] ld_left;            // words of the run not yet handed out
    reg  [31:0] dt_byte;            // data side: the run's first-word byte address
    reg  [31:0] dt_runs_left;       // runs not yet finished, this one included
    reg  [31:0] dt_sbase, dt_saddr; // the run's first scratch word, the next word's
    reg  [31:0] ld_sc_addr;
    reg         ld_valid;
    reg  [SR_W-1:0] ld_word;
    reg         ld_error;
    wire [31:0] slot_bits = 32'd1 << ld_slot_log2;
    wire        narrow    = (slot_bits <= AXI_DATA_W);
    // The loader's shifts take few amounts: the bits before a run's first
    // word are whole bytes of a beat (ld_skip_left), a narrow word is 2^k <=
    // AXI_DATA_W bits, a wide one 2^k bits in (AXI_DATA_W, SR_W]. Each is a
    // multiplexer of those shifts of a beat, not a shifter of an SR_W-bit
    // word by any 32-bit amount.
    localparam LOG_SR = $clog2(SR_W);
    function [AXI_DATA_W-1:0] next_narrow_word(input [AXI_DATA_W-1:0] words, input [4:0] slot_log2);   // words >> 2^slot_log2
        integer k;
        begin
            next_narrow_word = {AXI_DATA_W{1'b0}};
            for (k = 0; k < BEAT_LOG2; k = k + 1) if ({27'd0, slot_log2} == k) next_narrow_word = words >> (1 << k);
        end
    endfunction
    wire [AXI_DATA_W-1:0] beat_from_skip = rd_data >> {ld_skip_left[3 +: BEAT_LOG2-3], 3'b000};
    wire [SR_W-1:0]       wide_assembled = {rd_data, sr[SR_W-1:AXI_DATA_W]};
    reg  [SR_W-1:0]       wide_word;        // the assembled word's top 2^ld_slot_log2 bits
    integer wk;
    always @(*) begin
        wide_word = {SR_W{1'b0}};
        for (wk = BEAT_LOG2 + 1; wk <= LOG_SR; wk = wk + 1) if ({27'd0, ld_slot_log2} == wk) wide_word = wide_assembled >> (SR_W - (1 << wk));
    end

    yq_axi_reader #(.DATA_W(AXI_DATA_W), .ADDR_W(AXI_ADDR_W)) u_reader (
        .clk(clk), .rst(rst), .start(rd_start), .addr(rd_addr_full[AXI_ADDR_W-1:0]), .beats(rq_beats),
        .busy(rd_busy), .ready(rd_ready_req), .done(rd_done), .error(rd_error),
        .out_valid(rd_valid), .out_ready(rd_ready), .out_data(rd_data), .out_last(rd_last),
        .m_arvalid(m_arvalid), .m_arready(m_arready), .m_araddr(m_araddr), .m_arlen(m_arlen),
        .m_arsize(m_arsize), .m_arburst(m_arburst), .m_rvalid(m_rvalid), .m_rready(m_rready),
        .m_rdata(m_rdata), .m_rresp(m_rresp), .m_rlast(m_rlast)
    );
    wire rd_fire = rd_valid && rd_ready;
    // The narrow buffers (directory, tables, biases, requant words) have one
    // write port: a beat's words go in one a cycle (dr_word holds the rest,
    // dr_left counts them), the read stream stalled meanwhile.
    wire        one_word_dst = (ld_dst == DST_LUTDIR || ld_dst == DST_LUT || ld_dst == DST_BIAS || ld_dst == DST_REQUANT ||
                                ld_dst == DST_TABLE || ld_dst == DST_INSTR || ld_dst == DST_PROGRAM);
    reg  [AXI_DATA_W-1:0] dr_word;
    reg  [31:0]           dr_left;
    always @(*) rd_ready = ld_active && dr_left == 32'd0 && (!ld_up || (up_second && up_beat_done));
    // Words of a narrow beat: those after the skipped ones, at most those left.
    wire [31:0] beat_words = (AXI_DATA_W - ld_skip_left) >> ld_slot_log2;
    wire [31:0] beat_take  = (beat_words < ld_left) ? beat_words : ld_left;
    localparam [31:0] UP_SEG = AXI_DATA_W / YQ_FMAP_NARROW_SLOT_BITS / 2;   // half the loader's write (PB_FMAP)
    wire [31:0] up_row_left  = {{(32-UP_ROW_W){1'b0}}, up_col_left};
    wire [31:0] up_seg_row   = (beat_take < up_row_left) ? beat_take : up_row_left;
    wire [31:0] up_seg       = (up_seg_row < UP_SEG) ? up_seg_row : UP_SEG;
    wire        up_beat_done = (up_seg == beat_take);
    wire        up_row_done  = (up_seg == up_row_left);
    wire [31:0] up_row_pitch = {{(31-UP_ROW_W){1'b0}}, ld_row_words, 1'b0};   // an upsampled row's words
    wire [31:0] pulse_take   = ld_up ? up_seg : beat_take;                    // the words a pulse hands out
    wire        run_ends     = (pulse_take == ld_left) && dt_runs_left > 32'd1;   // the next beat starts the next run

    always @(posedge clk) begin
        ld_valid <= 1'b0;
        ld_dup   <= ld_up;
        if (rst) begin
            ld_active <= 1'b0;
        end else if (ld_start) begin
            ld_active    <= 1'b1;
            dr_left      <= 32'd0;
            rq_byte      <= ld_byte;
            rq_runs_left <= ld_runs;
            dt_byte      <= ld_byte;
            dt_runs_left <= ld_runs;
            dt_sbase     <= ld_scratch_base;
            dt_saddr     <= ld_scratch_base;
            ld_left      <= ld_words;
            ld_skip_left <= skip_bits_of(ld_byte[BEAT_LOG2-4:0]);
            sr_bits      <= 32'd0;
            ld_error     <= 1'b0;
            up_second    <= 1'b0;
            up_col_left  <= ld_row_words;
            ld_rows_bad  <= 1'b0;
        end else if (ld_active) begin
            if (rd_start) begin
                rq_byte      <= rq_byte + ld_stride;
                rq_runs_left <= rq_runs_left - 32'd1;
            end
            if (dr_left != 32'd0) begin
                ld_valid <= 1'b1;
                ld_word  <= {{(SR_W-AXI_DATA_W){1'b0}}, dr_word};
                dr_word  <= next_narrow_word(dr_word, ld_slot_log2);
                dr_left  <= dr_left - 32'd1;
            end
            // A narrow beat's words go out in one pulse (a load) or in
            // segments, each twice (an upsample_load); the words are done
            // (and the run, the beat, the row move on) at the pulse that
            // hands them out last.
            if (narrow && (ld_up ? rd_valid : rd_fire)) begin
                ld_valid   <= (pulse_take != 32'd0);
                ld_word    <= {{(SR_W-AXI_DATA_W){1'b0}}, beat_from_skip};
                ld_n       <= one_word_dst ? 32'd1 : pulse_take;
                if (one_word_dst && beat_take > 32'd1) begin
                    dr_word <= next_narrow_word(beat_from_skip, ld_slot_log2);
                    dr_left <= beat_take - 32'd1;
                end
                ld_sc_addr <= (ld_up && up_second) ? dt_saddr + up_row_pitch : dt_saddr;
                up_second  <= ld_up && !up_second;
                if (!ld_up || up_second) begin
                    if (ld_up) begin
                        up_col_left <= up_row_done ? ld_row_words : up_col_left - up_seg[UP_ROW_W-1:0];
                        if (up_seg == ld_left && !up_row_done) ld_rows_bad <= 1'b1;
                    end
                    if (run_ends) begin
                        dt_byte      <= dt_byte + ld_stride;
                        dt_runs_left <= dt_runs_left - 32'd1;
                        dt_sbase     <= dt_sbase + ld_sstride;
                        dt_saddr     <= dt_sbase + ld_sstride;
                        ld_left      <= ld_words;
                        ld_skip_left <= skip_bits_of(dt_byte[BEAT_LOG2-4:0] + ld_stride[BEAT_LOG2-4:0]);
                    end else begin
                        dt_saddr     <= dt_saddr + (ld_up ? (up_seg << 1) + (up_row_done ? up_row_pitch : 32'd0) : beat_take);
                        ld_left      <= ld_left - pulse_take;
                        ld_skip_left <= (ld_up && !up_beat_done) ? ld_skip_left + (up_seg << ld_slot_log2) : 32'd0;
                    end
                end
            end else if (rd_fire) begin
                sr <= {rd_data, sr[SR_W-1:AXI_DATA_W]};
                if (sr_bits + AXI_DATA_W == slot_bits) begin
                    ld_valid <= 1'b1;
                    ld_word  <= wide_word;
                    ld_n     <= 32'd1;
                    ld_left  <= ld_left - 32'd1;
                    sr_bits  <= 32'd0;
                end else begin
                    sr_bits <= sr_bits + AXI_DATA_W;
                end
            end
            if (rd_done) ld_error <= ld_error | rd_error;
            // Every run requested and every beat received (the reader is
            // done with all of them): the last words are written now.
            if (rq_runs_left == 32'd0 && !rd_busy && dr_left == 32'd0) ld_active <= 1'b0;
        end
    end
    reg [31:0] ld_count;            // words written by the loader since ld_start
    always @(posedge clk) begin
        if (ld_start) ld_count <= 32'd0;
        else if (ld_valid) ld_count <= ld_count + ld_n;
    end

    // Loader writes into the memory of ld_dst: up to a beat of words, at
    // consecutive addresses from ld_count (a banked buffer takes them in one
    // cycle). A feature map's codes sit in DRAM slots of one of two widths
    // (its instruction's slot_log2): narrow (NSLOT) or wide (WSLOT). Words
    // per beat of each region (feature maps: PB_FMAP narrow or PB_WIDE wide):
    localparam NSLOT = YQ_FMAP_NARROW_SLOT_BITS, WSLOT = YQ_FMAP_WIDE_SLOT_BITS;
    localparam PB_WEIGHT  = (YQ_DRAM_WEIGHT_SLOT_BITS >= AXI_DATA_W) ? 1 : AXI_DATA_W / YQ_DRAM_WEIGHT_SLOT_BITS;
    localparam PB_FMAP    = AXI_DATA_W / NSLOT;
    localparam PB_WIDE    = AXI_DATA_W / WSLOT;
    localparam [31:0] LOG_NSLOT32 = $clog2(NSLOT), LOG_WSLOT32 = $clog2(WSLOT);
    localparam [4:0]  LOG_NSLOT = LOG_NSLOT32[4:0], LOG_WSLOT = LOG_WSLOT32[4:0];
    localparam        ONE_SLOT = (NSLOT == WSLOT);   // one width: every slot width below is a constant
    reg [DESC_W-1:0] desc_raw;
    reg [YQ_BAND_WORD_BITS-1:0] ins;   // the band program instruction being executed
    // Instructions are fetched IBUF at a time (one read, the DRAM latency
    // once) into ibuf: instructions ibuf_first .. ibuf_first + ibuf_count - 1.
    localparam IBUF = 8, IBUF_W = $clog2(IBUF);
    localparam [31:0] IBUF32 = IBUF;
    reg [YQ_BAND_WORD_BITS-1:0] ibuf [0:IBUF-1];
    reg [31:0] ibuf_first, ibuf_count;
    wire [31:0] fetch_count;   // the instructions from pc on, at most IBUF
    always @(posedge clk) begin
        if (ld_valid) begin
            case (ld_dst)
                DST_LUTDIR:
                    if (ld_count < YQ_LUT_DIR_DEPTH)
                        lutdir_mem[ld_count[YQ_LUT_DIR_ADDR_BITS-1:0]] <= ld_word[YQ_LUT_DIR_WIDTH-1:0];
                DST_LUT:
                    if (ld_count < YQ_HEAD_LUT_DEPTH) head_lut[ld_count[HEAD_LUT_AW-1:0]] <= ld_word[YQ_LUT_WIDTH-1:0];
                DST_DESC, DST_PROGRAM: desc_raw <= ld_word[DESC_W-1:0];
                DST_INSTR: ibuf[ld_count[IBUF_W-1:0]] <= ld_word[YQ_BAND_WORD_BITS-1:0];
                DST_BIAS:
                    if (ld_count < BBUF_DEPTH) bbuf[b_ld_addr[B_AW-1:0]] <= ld_word[YQ_BIAS_WIDTH-1:0];
                DST_REQUANT:
                    if (ld_count < RQBUF_DEPTH) rqbuf[rq_ld_addr[RQ_AW-1:0]] <= ld_word[YQ_REQUANT_WIDTH-1:0];
                default: ;
            endcase
        end
    end
    // A SiLU table's entries go to every table lane (table0 / table1 in the
    // lanes below), one a cycle.
    wire                    table_we = ld_valid && ld_dst == DST_TABLE && ld_count < TBUF_DEPTH;
    wire [YQ_LUT_WIDTH-1:0] table_wd = ld_word[YQ_LUT_WIDTH-1:0];
    // Constants load into the half a Constants instruction names (stage_half).
    reg         stage_half;
    wire [31:0] b_ld_addr  = (stage_half ? BBUF_DEPTH : 32'd0) + ld_count;
    wire [31:0] rq_ld_addr = (stage_half ? RQBUF_DEPTH : 32'd0) + ld_count;

    // ------------------------------------------------------------------
    // Frame control: the band program's issuer.
    localparam [4:0] S_IDLE = 5'd0, S_LUTDIR = 5'd1, S_LUT = 5'd2, S_PROG = 5'd3, S_PROG_NOTE = 5'd4,
                     S_FETCH = 5'd5, S_EXEC = 5'd6, S_DECODE = 5'd11, S_BIAS = 5'd12, S_REQUANT = 5'd13, S_RUN = 5'd14,
                     S_HEAD_BAND = 5'd15, S_END = 5'd17, S_WAIT_HEAD = 5'd18,
                     S_WRITE_DET = 5'd19, S_WAIT_WRITE = 5'd20, S_LOAD_WAIT = 5'd21, S_FAIL_WAIT = 5'd22,
                     S_NEXT = 5'd23, S_TABLE_DIR = 5'd24, S_TABLE = 5'd25, S_COPY = 5'd26;
    reg [4:0] state, after_load;
    assign busy = (state != S_IDLE);
    assign issuer = {ins[YQ_BAND_OP_LSB +: 8], 7'd0, ld_dst, state};

    // The descriptor in desc_raw: a layer-program one (S_PROG, Constants) or a Run's band descriptor.
    wire [31:0] f_op      = {{(32-YQ_PROG_OP_WIDTH){1'b0}}, desc_raw[YQ_PROG_OP_LSB +: YQ_PROG_OP_WIDTH]};
    wire [31:0] f_inputs  = {{(32-YQ_PROG_NUM_INPUTS_WIDTH){1'b0}}, desc_raw[YQ_PROG_NUM_INPUTS_LSB +: YQ_PROG_NUM_INPUTS_WIDTH]};
    wire [31:0] f_kernel  = {{(32-YQ_PROG_KERNEL_WIDTH){1'b0}}, desc_raw[YQ_PROG_KERNEL_LSB +: YQ_PROG_KERNEL_WIDTH]};
    wire [31:0] f_in_c    = {{(32-YQ_PROG_IN_C_WIDTH){1'b0}}, desc_raw[YQ_PROG_IN_C_LSB +: YQ_PROG_IN_C_WIDTH]};
    wire [31:0] f_out_c   = {{(32-YQ_PROG_OUT_C_WIDTH){1'b0}}, desc_raw[YQ_PROG_OUT_C_LSB +: YQ_PROG_OUT_C_WIDTH]};
    wire [31:0] f_w_base  = desc_raw[YQ_PROG_WEIGHT_BASE_LSB +: YQ_PROG_WEIGHT_BASE_WIDTH];
    wire [31:0] f_b_base  = desc_raw[YQ_PROG_BIAS_BASE_LSB +: YQ_PROG_BIAS_BASE_WIDTH];
    wire [31:0] f_rq_base = desc_raw[YQ_PROG_REQUANT_BASE_LSB +: YQ_PROG_REQUANT_BASE_WIDTH];
    wire        f_is_conv = (f_op == YQ_OP_CONV);
    wire [YQ_PROG_ACT_LUT_WIDTH-1:0] f_act_lut = desc_raw[YQ_PROG_ACT_LUT_LSB +: YQ_PROG_ACT_LUT_WIDTH];
    localparam [YQ_PROG_ACT_LUT_WIDTH-1:0] NONE_LUT = {YQ_PROG_ACT_LUT_WIDTH{1'b1}};
    // The LUT directory entry of the constants' table (one cycle after
    // desc_raw; the directory's second read port).
    wire [YQ_LUT_DIR_WIDTH-1:0] table_entry = lutdir_mem[f_act_lut[YQ_LUT_DIR_ADDR_BITS-1:0]];
    reg  [31:0] table_base, table_depth;
    always @(posedge clk) begin
        table_base  <= table_entry[YQ_LUTDIR_BASE_LSB +: YQ_LUTDIR_BASE_WIDTH];
        table_depth <= table_entry[YQ_LUTDIR_DEPTH_LSB +: YQ_LUTDIR_DEPTH_WIDTH];
    end
    wire        f_runs    = f_is_conv || f_op == YQ_OP_ADD || f_op == YQ_OP_CONCAT || f_op == YQ_OP_MAXPOOL ||
                            f_op == YQ_OP_UPSAMPLE;
    wire [31:0] f_rq_words = f_is_conv ? f_out_c : f_inputs;
    localparam [31:0] NONE32 = YQ_NONE_32;

    // Words of a convolution's weights in whole rows, ceil(out_c /
    // YQ_WEIGHT_GROUP) * in_c * kernel^2 * YQ_WEIGHT_GROUP (sequential
    // multiplies in S_DECODE's cycles, before any is needed).
    reg  [31:0] mul_kk, mul_ckk, w_words;
    wire [31:0] w_groups = (f_out_c + YQ_WEIGHT_GROUP - 1) >> LOG_GROUP;
    always @(posedge clk) begin
        mul_kk  <= f_kernel * f_kernel;
        mul_ckk <= f_in_c * mul_kk;
        w_words <= (w_groups * mul_ckk) << LOG_GROUP;
    end
    reg [1:0] decode_wait;

    // The instruction's fields (docs/ARTIFACTS.md section 14).
    localparam HL_W = $clog2(YQ_NUM_LEVELS + 1);
    localparam CELL_W = YQ_PROG_OUT_W_WIDTH;
    wire [31:0] i_op       = {{(32-YQ_BAND_OP_WIDTH){1'b0}}, ins[YQ_BAND_OP_LSB +: YQ_BAND_OP_WIDTH]};
    wire [YQ_BAND_READS_WIDTH-1:0]  i_reads  = ins[YQ_BAND_READS_LSB +: YQ_BAND_READS_WIDTH];
    wire [YQ_BAND_WRITES_WIDTH-1:0] i_writes = ins[YQ_BAND_WRITES_LSB +: YQ_BAND_WRITES_WIDTH];
    wire        i_barrier  = ins[YQ_BAND_BARRIER_LSB +: YQ_BAND_BARRIER_WIDTH] != 0;
    wire        i_half     = ins[YQ_BAND_HALF_LSB +: YQ_BAND_HALF_WIDTH] != 0;
    wire [NODE_W-1:0] i_node = ins[YQ_BAND_NODE_LSB +: NODE_W];
    wire [31:0] i_channels = {{(32-YQ_BAND_CHANNELS_WIDTH){1'b0}}, ins[YQ_BAND_CHANNELS_LSB +: YQ_BAND_CHANNELS_WIDTH]};
    wire [31:0] i_words    = ins[YQ_BAND_WORDS_LSB +: YQ_BAND_WORDS_WIDTH];
    wire [31:0] i_addr     = ins[YQ_BAND_DRAM_ADDRESS_LSB +: YQ_BAND_DRAM_ADDRESS_WIDTH];
    wire [31:0] i_stride   = ins[YQ_BAND_DRAM_STRIDE_LSB +: YQ_BAND_DRAM_STRIDE_WIDTH];
    wire [31:0] i_sword    = ins[YQ_BAND_SCRATCH_WORD_LSB +: YQ_BAND_SCRATCH_WORD_WIDTH];
    wire [31:0] i_sstride  = ins[YQ_BAND_SCRATCH_STRIDE_LSB +: YQ_BAND_SCRATCH_STRIDE_WIDTH];
    wire [31:0] i_class    = ins[YQ_BAND_CLASS_WORD_LSB +: YQ_BAND_CLASS_WORD_WIDTH];
    wire [4:0]  i_slot_log2 = ONE_SLOT ? LOG_NSLOT : ins[YQ_BAND_SLOT_LOG2_LSB +: 5];   // a Load's or Store's DRAM slot: 2^i_slot_log2 bits
    wire        i_slot_bad  = ins[YQ_BAND_SLOT_LOG2_LSB +: YQ_BAND_SLOT_LOG2_WIDTH] != {3'd0, LOG_NSLOT} &&
                              ins[YQ_BAND_SLOT_LOG2_LSB +: YQ_BAND_SLOT_LOG2_WIDTH] != {3'd0, LOG_WSLOT};
    wire [HL_W-1:0]   i_level = ins[YQ_BAND_LEVEL_LSB +: HL_W];
    wire [CELL_W-1:0] i_row0  = ins[YQ_BAND_FIRST_ROW_LSB +: CELL_W];
    wire [CELL_W-1:0] i_rows  = ins[YQ_BAND_ROWS_LSB +: CELL_W];
    // An UpsampleLoad: runs of rows of i_row_words words, each word written
    // four times (rows 2j and 2j + 1, words 2x and 2x + 1).
    wire        i_up        = (i_op == YQ_BAND_OP_UPSAMPLE_LOAD);
    wire [31:0] i_row_words = {{(32-YQ_BAND_ROW_WORDS_WIDTH){1'b0}}, ins[YQ_BAND_ROW_WORDS_LSB +: YQ_BAND_ROW_WORDS_WIDTH]};
    // A run's scratch words (an UpsampleLoad's whose last row is cut short
    // writes at most two rows of 2 i_row_words past them before it fails).
    wire [31:0] i_run_span  = i_up ? (i_words << 2) + (i_row_words << 2) : i_words;
    // A load's or store's last scratch word + 1 (checked against the scratch memory).
    wire [63:0] i_span = {32'd0, i_sword} + {32'd0, i_channels - 32'd1} * {32'd0, i_sstride} + {32'd0, i_run_span};
    localparam [31:0] SCRATCH32 = YQ_SCRATCH_WORDS;
    wire        i_span_bad = (i_channels == 32'd0) || (i_span[63:32] != 32'd0) || (i_span[31:0] > SCRATCH32);
    // A Copy's source runs: from i_addr, i_stride words apart.
    wire [63:0] i_src_span = {32'd0, i_addr} + {32'd0, i_channels - 32'd1} * {32'd0, i_stride} + {32'd0, i_words};
    wire        i_src_bad  = (i_src_span[63:32] != 32'd0) || (i_src_span[31:0] > SCRATCH32);
    // Runs that follow each other both in DRAM and in the scratch memory (a
    // whole tensor, or a band of every row) move as one run of channels x words.
    wire        i_contiguous = (i_stride == (i_words << (i_slot_log2 - 5'd3))) && (i_sstride == (i_up ? i_words << 2 : i_words));
    wire [31:0] i_run_words  = i_contiguous ? i_channels * i_words : i_words;
    wire [31:0] i_runs       = i_contiguous ? 32'd1 : i_channels;

    reg  [31:0] pc /*verilator public_flat_rd*/;   // the instruction fetched
    localparam [31:0] NUM_INSTRUCTIONS = YQ_BAND_INSTRUCTIONS;
    assign fetch_count = (NUM_INSTRUCTIONS - pc < IBUF32) ? NUM_INSTRUCTIONS - pc : IBUF32;
    reg  [YQ_BAND_READS_WIDTH-1:0]  run_reads;    // the running Run's halves
    wire [31:0] run_reads32    = {{(32-YQ_BAND_READS_WIDTH){1'b0}}, run_reads};
    wire [31:0] run_table_base = ((run_reads32 & YQ_BAND_CONSTANT_HALF1) != 0) ? TBUF_DEPTH : 32'd0;
    reg  [YQ_BAND_WRITES_WIDTH-1:0] run_writes;
    reg         head_started;
    reg         head_band_busy;     // the detect head works on a band (its halves head_reads)
    reg  [YQ_BAND_READS_WIDTH-1:0]  head_reads;
    // An instruction touching a half the running Run writes, or writing one
    // it reads, waits; so does one writing the half the running Store reads,
    // or the half of the head's band.
    wire hazard = (job_running && (((i_writes & (run_reads | run_writes)) != 0) || ((i_reads & run_writes) != 0))) ||
                  (su_busy && (i_writes & su_reads) != 0) || (head_band_busy && (i_writes & head_reads) != 0);

    reg         engine_failed;      // the running (or last) Run's engine refused its descriptor
    reg         bank_failed;        // a cycle asked a scratch bank's port for two words (bank_node's)
    wire        failed_meanwhile;   // a band, a store or the scratch memory failed: stop issuing
    reg  [NODE_W-1:0] bank_node;
    wire        bank_conflict;
    reg  [7:0]  pending_code;       // an error found while a Run computes, reported after it
    reg  [NODE_W-1:0] pending_node;

    reg  conv_go, elt_go, head_go;
    reg  cp_go;                     // a Copy goes to the copy unit
    wire cp_done;                   // its last words are written
    wire head_busy /*verilator public_flat_rd*/;
    wire head_done, head_overflow, head_band_ready, head_band_done;
    wire conv_busy /*verilator public_flat_rd*/, elt_busy /*verilator public_flat_rd*/;
    wire conv_done, conv_error, elt_done, elt_error;
    wire engine_done  = conv_done | elt_done;
    wire engine_error = conv_error | elt_error;
    reg  st_go;                     // a Store goes to the store unit

    task load(input [3:0] dst, input [31:0] region, input [31:0] first, input [31:0] words,
              input [4:0] slot_log2, input [4:0] next_state);
        begin
            ld_dst       <= dst;
            ld_region    <= region;
            ld_first     <= first;
            ld_words     <= words;
            ld_slot_log2 <= slot_log2;
            ld_runs      <= 32'd1;
            ld_up        <= 1'b0;
            ld_start     <= 1'b1;
            after_load   <= next_state;
            state        <= S_LOAD_WAIT;
        end
    endtask

    // An error at node `at`: reported once the running Run has finished,
    // unless its engine failed (the first error in program order).
    task fail(input [7:0] code, input [NODE_W-1:0] at);
        begin
            pending_code <= code;
            pending_node <= at;
            state        <= S_FAIL_WAIT;
        end
    endtask

    task report(input [7:0] code, input [NODE_W-1:0] at);
        begin
            error_code  <= code;
            error_node  <= at;
            frame_error <= 1'b1;
            state       <= S_IDLE;
        end
    endtask

    localparam [31:0] LOG_PROGRAM = $clog2(YQ_DRAM_PROGRAM_SLOT_BITS), LOG_LUT_DIR = $clog2(YQ_DRAM_LUT_DIR_SLOT_BITS),
                     LOG_LUT = $clog2(YQ_DRAM_LUT_SLOT_BITS), LOG_WEIGHT = $clog2(YQ_DRAM_WEIGHT_SLOT_BITS),
                     LOG_BIAS = $clog2(YQ_DRAM_BIAS_SLOT_BITS), LOG_REQUANT = $clog2(YQ_DRAM_REQUANT_SLOT_BITS),
                     LOG_BAND = $clog2(YQ_DRAM_BAND_PROGRAM_SLOT_BITS),
                     LOG_BAND_DESC = $clog2(YQ_DRAM_BAND_DESCRIPTORS_SLOT_BITS);
    localparam [31:0] NUM_NODES = YQ_NUM_LAYERS;
    localparam [NODE_W-1:0] HEAD_NODE = NUM_NODES[NODE_W-1:0];

    always @(posedge clk) begin
        ld_start <= 1'b0;
        wr_start <= 1'b0;
        conv_go  <= 1'b0;
        elt_go   <= 1'b0;
        head_go  <= 1'b0;
        st_go    <= 1'b0;
        cp_go    <= 1'b0;
        if (rst) begin
            state       <= S_IDLE;
            frame_done  <= 1'b0;
            frame_error <= 1'b0;
            error_code  <= ERR_NONE;
            error_node  <= {NODE_W{1'b0}};
            cycles      <= 32'd0;
            stalls      <= 32'd0;
            bytes_read  <= 32'd0;
            bytes_written <= 32'd0;
            head_cycles <= 32'd0;
            node        <= {NODE_W{1'b0}};
            job_running <= 1'b0;
            head_band_busy <= 1'b0;
        end else begin
            if (head_band_done) head_band_busy <= 1'b0;
            if (engine_done) begin
                job_running <= 1'b0;
                if (engine_error) engine_failed <= 1'b1;
            end
            if (bank_conflict && !bank_failed) begin
                bank_failed <= 1'b1;
                bank_node   <= job_running ? run_node : head_busy ? HEAD_NODE : node;
            end
            if (clear_status) begin
                frame_done  <= 1'b0;
                frame_error <= 1'b0;
            end
            if (busy) begin
                cycles <= cycles + 32'd1;
                if (!(conv_busy || elt_busy || head_busy)) stalls <= stalls + 32'd1;
                if (head_busy) head_cycles <= head_cycles + 32'd1;
                if (m_rvalid && m_rready) bytes_read <= bytes_read + BEAT_BYTES;
                if (m_wvalid && m_wready) bytes_written <= bytes_written + strobed_bytes(m_wstrb);
            end
            case (state)
                S_IDLE: if (start_req) begin
                    frame_done  <= 1'b0;
                    frame_error <= 1'b0;
                    error_code  <= ERR_NONE;
                    error_node  <= {NODE_W{1'b0}};
                    cycles      <= 32'd0;
                    stalls      <= 32'd0;
                    bytes_read  <= 32'd0;
                    bytes_written <= 32'd0;
                    head_cycles <= 32'd0;
                    node        <= {NODE_W{1'b0}};
                    run_node    <= {NODE_W{1'b0}};
                    job_running <= 1'b0;
                    engine_failed <= 1'b0;
                    bank_failed <= 1'b0;
                    head_started <= 1'b0;
                    stage_half  <= 1'b0;
                    pc          <= 32'd0;
                    ibuf_count  <= 32'd0;
                    state       <= S_LUTDIR;
                end
                S_LUTDIR: load(DST_LUTDIR, YQ_DRAM_LUT_DIR_BASE, 32'd0, YQ_LUT_DIR_DEPTH, LOG_LUT_DIR[4:0], S_LUT);
                S_LUT:    load(DST_LUT, YQ_DRAM_LUT_BASE, YQ_HEAD_LUT_BASE, YQ_HEAD_LUT_DEPTH, LOG_LUT[4:0], S_PROG);
                // Every node's layer-program descriptor once, in one read: its
                // out_c (a concat's inputs) and the head convolutions' configuration,
                // noted as each arrives (prog_note); then the first bad op.
                S_PROG: load(DST_PROGRAM, YQ_DRAM_PROGRAM_BASE, 32'd0, NUM_NODES, LOG_PROGRAM[4:0], S_PROG_NOTE);
                S_PROG_NOTE:
                    if (prog_note) state <= S_PROG_NOTE;   // the last descriptor's note
                    else if (prog_bad) fail(ERR_DESC, prog_bad_node);
                    else state <= S_FETCH;
                S_FETCH:
                    if (failed_meanwhile) state <= S_FAIL_WAIT;
                    else if (pc >= NUM_INSTRUCTIONS) fail(ERR_DESC, node);  // ran past the program: no end
                    else if (pc - ibuf_first < ibuf_count) begin   // fetched: pc >= ibuf_first
                        ins   <= ibuf[pc[IBUF_W-1:0] - ibuf_first[IBUF_W-1:0]];
                        state <= S_EXEC;
                    end else begin
                        ibuf_first <= pc;
                        ibuf_count <= fetch_count;
                        load(DST_INSTR, YQ_DRAM_BAND_PROGRAM_BASE, pc, fetch_count, LOG_BAND[4:0], S_FETCH);
                    end
                S_LOAD_WAIT: if (!ld_active && !ld_start) begin
                    if (ld_error) fail(ERR_DRAM, node);
                    else if (ld_rows_bad) fail(ERR_DESC, node);
                    else begin
                        state       <= after_load;
                        decode_wait <= 2'd0;
                    end
                end
                S_EXEC: if (failed_meanwhile) state <= S_FAIL_WAIT;
                else begin
                    node <= i_node;
                    case (i_op)
                        YQ_BAND_OP_LOAD, YQ_BAND_OP_UPSAMPLE_LOAD, YQ_BAND_OP_STORE:
                            if (i_span_bad) fail(ERR_BUFFER, i_node);
                            else if (i_slot_bad || (i_up && i_row_words == 32'd0)) fail(ERR_DESC, i_node);
                            else if (i_op == YQ_BAND_OP_STORE) begin
                                if (!hazard && !su_busy) begin
                                    st_go <= 1'b1;
                                    state <= S_NEXT;
                                end
                            end else if (!hazard && !(i_barrier && su_busy)) begin
                                load(DST_SCRATCH, i_addr, 32'd0, i_run_words, i_slot_log2, S_NEXT);
                                ld_runs         <= i_runs;
                                ld_stride       <= i_stride;
                                ld_scratch_base <= i_sword;
                                ld_sstride      <= i_sstride;
                                ld_up           <= i_up;
                                ld_row_words    <= i_row_words[UP_ROW_W-1:0];
                            end
                        YQ_BAND_OP_COPY:
                            if (i_span_bad || i_src_bad) fail(ERR_BUFFER, i_node);
                            else if (head_started) fail(ERR_DESC, i_node);
                            else if (!hazard && !job_running) begin
                                cp_go <= 1'b1;
                                state <= S_COPY;
                            end
                        YQ_BAND_OP_CONSTANTS:
                            if (!hazard) begin
                                stage_half <= i_half;
                                load(DST_DESC, i_addr, 32'd0, 32'd1, LOG_PROGRAM[4:0], S_DECODE);
                            end
                        // The band descriptor is fetched while the band
                        // before still runs (S_RUN waits for it).
                        YQ_BAND_OP_RUN: load(DST_DESC, i_addr, 32'd0, 32'd1, LOG_BAND_DESC[4:0], S_RUN);
                        YQ_BAND_OP_HEAD:
                            if (!job_running) begin
                                if (!head_started) begin
                                    head_go      <= 1'b1;
                                    head_started <= 1'b1;
                                end else if (head_band_ready) begin
                                    state <= S_HEAD_BAND;
                                end
                            end
                        YQ_BAND_OP_END:
                            if (!head_started) fail(ERR_DESC, i_node);
                            else if (!job_running && !su_busy && head_band_ready) state <= S_END;
                        default: fail(ERR_DESC, i_node);
                    endcase
                end
                // Constants: the node's layer-program descriptor is in desc_raw.
                S_DECODE: begin
                    decode_wait <= decode_wait + 2'd1;
                    if (!f_runs) fail(ERR_DESC, i_node);
                    else if (decode_wait == 2'd3) begin
                        if (f_is_conv) begin
                            if (w_words > WBUF_DEPTH || f_out_c > BBUF_DEPTH || f_out_c > RQBUF_DEPTH) fail(ERR_BUFFER, i_node);
                            else load(DST_WEIGHT, YQ_DRAM_WEIGHT_BASE, f_w_base, w_words, LOG_WEIGHT[4:0], S_BIAS);
                        end else state <= S_REQUANT;
                    end
                end
                S_BIAS: load(DST_BIAS, YQ_DRAM_BIAS_BASE, f_b_base, f_out_c, LOG_BIAS[4:0], S_REQUANT);
                S_REQUANT: begin
                    if (f_rq_base == NONE32) state <= S_TABLE_DIR;
                    else if (f_rq_words > RQBUF_DEPTH) fail(ERR_BUFFER, i_node);
                    else load(DST_REQUANT, YQ_DRAM_REQUANT_BASE, f_rq_base, f_rq_words, LOG_REQUANT[4:0], S_TABLE_DIR);
                end
                // A convolution's SiLU table, from its LUT directory entry
                // (read in S_TABLE_DIR), into every table lane's half.
                S_TABLE_DIR: state <= (f_is_conv && f_act_lut != NONE_LUT) ? S_TABLE : S_NEXT;
                S_TABLE: begin
                    if (table_depth > TBUF_DEPTH) fail(ERR_BUFFER, i_node);
                    else load(DST_TABLE, YQ_DRAM_LUT_BASE, table_base, table_depth, LOG_LUT[4:0], S_NEXT);
                end
                // A Run: its band descriptor is in desc_raw; the engine starts
                // once the band before is over and runs while the following
                // instructions issue.
                S_RUN:
                    if (failed_meanwhile) state <= S_FAIL_WAIT;
                    else if (!f_runs) fail(ERR_DESC, i_node);
                    else if (!job_running && !hazard) begin   // and the store of its output half is over
                        conv_go     <= f_is_conv;
                        elt_go      <= !f_is_conv;
                        job_running <= 1'b1;
                        run_node    <= i_node;
                        run_reads   <= i_reads;
                        run_writes  <= i_writes;
                        state       <= S_NEXT;
                    end
                // The head takes the band (hd_band_valid) and works on it
                // while the issuer goes on (the next band's loads).
                S_HEAD_BAND: begin
                    head_band_busy <= 1'b1;
                    head_reads     <= i_reads;
                    state          <= S_NEXT;
                end
                S_COPY: if (cp_done) state <= S_NEXT;
                S_NEXT: begin
                    pc    <= pc + 32'd1;
                    state <= S_FETCH;
                end
                S_END: state <= S_WAIT_HEAD;         // finish: q_NMS ends the list
                S_WAIT_HEAD: if (head_done) begin
                    if (bank_failed) state <= S_FAIL_WAIT;
                    else if (head_overflow) fail(ERR_HEAD_OVERFLOW, HEAD_NODE);
                    else state <= S_WRITE_DET;
                end
                S_WRITE_DET: begin
                    wr_start <= 1'b1;
                    state    <= S_WAIT_WRITE;
                end
                S_WAIT_WRITE: if (wr_done) begin
                    if (wr_error) fail(ERR_DRAM_WRITE, HEAD_NODE);
                    else begin
                        frame_done <= 1'b1;
                        state      <= S_IDLE;
                    end
                end
                // The first error in program order once the running Run and
                // Store are over: a Store's (a Store issues only after its
                // band's Run succeeded, so a failing Run is a later one), else
                // the running Run's engine, else the one the issuer found.
                S_FAIL_WAIT: if (!job_running && !su_busy && !head_band_busy) begin
                    if (su_failed) report(ERR_DRAM_WRITE, su_node);
                    else if (engine_failed) report(ERR_ENGINE, run_node);
                    else if (bank_failed) report(ERR_BANK, bank_node);
                    else report(pending_code, pending_node);
                end
                default: state <= S_IDLE;
            endcase
        end
    end

    // ------------------------------------------------------------------
    // Engines (as in rtl_tb/yq_layer_top.v, memories replaced by the buffers).
    wire [YQ_PROG_ACT_LUT_WIDTH-1:0] lutdir_addr;
    reg  [YQ_LUT_DIR_WIDTH-1:0] lutdir_data;
    wire [31:0]               bias_addr, rq_addr;
    reg  [YQ_BIAS_WIDTH-1:0]  bias_data;
    reg  [YQ_REQUANT_WIDTH-1:0] rq_data;
    wire [31:0]               w_addr;
    wire [COLS*YQ_WEIGHT_WIDTH-1:0] w_data;
    wire [ROWS*32-1:0]        fm_rd_addr, fm_rd_addr_b;
    wire [1:0]                fm_rd_step;
    wire [ROWS*FW-1:0]        fm_rd_data;
    wire                      fm_wr_en;
    wire [31:0]               fm_wr_addr;
    wire [ROWS-1:0]           fm_wr_mask;
    wire [ROWS*FW-1:0]        fm_wr_data;
    wire [ROWS*32-1:0]        lut_addr;
    wire [ROWS*YQ_LUT_WIDTH-1:0] lut_data0, lut_data1;

    yq_conv_engine #(
        .ROWS(ROWS), .COLS(COLS), .TWIN(CONV_TWIN), .A_W(FW), .W_W(YQ_WEIGHT_WIDTH), .ACC_W(YQ_BIAS_WIDTH),
        .MULT_W(YQ_MULT_BITS), .SHIFT_W(YQ_SHIFT_BITS), .PRE_W(YQ_PRE_BITS), .LUT_W(YQ_LUT_WIDTH),
        .INTERP(YQ_TABLE_INTERPOLATED), .RQ_SHIFT_MIN(YQ_CONV_SHIFT_MIN), .RQ_SHIFT_MAX(YQ_CONV_SHIFT_MAX),
        .DIM_W(YQ_MAX_DIM_BITS), .FM_ADDR_W(SCRATCH_ADDR_W), .PLANES(YQ_FMAP_PLANES)
    ) u_engine (
        .clk(clk), .rst(rst), .start(conv_go), .desc(desc_raw), .busy(conv_busy), .done(conv_done), .error(conv_error),
        .lutdir_addr(lutdir_addr), .lutdir_data(lutdir_data), .bias_addr(bias_addr), .bias_data(bias_data),
        .rq_addr(rq_addr), .rq_data(rq_data), .w_addr(w_addr), .w_data(w_data),
        .fm_rd_addr(fm_rd_addr), .fm_rd_data(fm_rd_data), .fm_rd_addr_b(fm_rd_addr_b), .fm_rd_data_b(elt_rd_data1),
        .fm_rd_step(fm_rd_step), .fm_wr_en(fm_wr_en), .fm_wr_addr(fm_wr_addr),
        .fm_wr_mask(fm_wr_mask), .fm_wr_data(fm_wr_data), .lut_addr(lut_addr), .lut_data0(lut_data0),
        .lut_data1(lut_data1)
    );

    wire [NODE_W-1:0]           prog_addr;
    reg  [DESC_W-1:0]           prog_data;
    wire [31:0]                 elt_rq_addr, elt_wr_addr;
    wire [ROWS*32-1:0]          elt_rd_addr0, elt_rd_addr1;
    wire [1:0]                  elt_rd_step0;
    reg  [YQ_REQUANT_WIDTH-1:0] elt_rq_data;
    wire [ROWS*FW-1:0]          elt_rd_data1;
    wire                        elt_wr_en;
    wire [ROWS-1:0]             elt_wr_mask;
    wire [ROWS*FW-1:0]          elt_wr_data;

    yq_eltwise_engine #(
        .LANES(ROWS), .A_W(FW), .MULT_W(YQ_MULT_BITS), .SHIFT_W(YQ_SHIFT_BITS), .DIM_W(YQ_MAX_DIM_BITS)
    ) u_eltwise (
        .clk(clk), .rst(rst), .start(elt_go), .desc(desc_raw), .busy(elt_busy), .done(elt_done), .error(elt_error),
        .prog_addr(prog_addr), .prog_data(prog_data), .rq_addr(elt_rq_addr), .rq_data(elt_rq_data),
        .fm_rd_addr0(elt_rd_addr0), .fm_rd_data0(fm_rd_data), .fm_rd_step0(elt_rd_step0), .fm_rd_addr1(elt_rd_addr1),
        .fm_rd_data1(elt_rd_data1), .fm_wr_en(elt_wr_en), .fm_wr_addr(elt_wr_addr), .fm_wr_mask(elt_wr_mask),
        .fm_wr_data(elt_wr_data)
    );

    // The detect head: started at the first Head instruction, it reads each
    // band from the scratch memory on lanes 0 .. HEAD_LANES-1, the LUT
    // directory, and the LUT memory on two ports of its own.
    wire [31:0] head_dir_addr, head_exp_addr, head_sig_addr;
    // Entries of head_lut (an address below YQ_HEAD_LUT_BASE wraps past its depth: reads 0).
    wire [31:0] head_exp_entry = head_exp_addr - YQ_HEAD_LUT_BASE, head_sig_entry = head_sig_addr - YQ_HEAD_LUT_BASE;
    wire [DET_ADDR_W-1:0] res_addr;
    wire [HEAD_LANES*32-1:0] head_fm_addr;
    reg  [YQ_LUT_WIDTH-1:0] head_exp_data, head_sig_data;
    wire [31:0] dir_addr = head_busy ? head_dir_addr : {{(32-YQ_PROG_ACT_LUT_WIDTH){1'b0}}, lutdir_addr};
    always @(posedge clk) begin
        prog_note  <= ld_valid && ld_dst == DST_PROGRAM;
        prog_index <= ld_count[NODE_W-1:0];
        if (prog_note) begin
            outc_mem[prog_index[YQ_PROGRAM_ADDR_BITS-1:0]] <= f_out_c[YQ_PROG_OUT_C_WIDTH-1:0];
            if (f_op > YQ_OP_UPSAMPLE && !prog_bad) begin
                prog_bad      <= 1'b1;
                prog_bad_node <= prog_index;
            end
        end
        if (rst || state == S_IDLE) begin
            prog_note <= 1'b0;
            prog_bad  <= 1'b0;
        end
    end
    // Every head convolution's layer-program descriptor configures the head (S_PROG).
    wire head_cfg = prog_note && f_is_conv &&
                    {{(32-YQ_PROG_HEAD_WIDTH){1'b0}}, desc_raw[YQ_PROG_HEAD_LSB +: YQ_PROG_HEAD_WIDTH]} != YQ_HEAD_NONE;
    wire hd_band_valid = (state == S_HEAD_BAND) && head_band_ready;
    wire hd_finish = (state == S_END);
    yq_detect_head #(.MAX_CAND(HEAD_MAX_CAND), .LANES(HEAD_LANES)) u_head (
        .clk(clk), .rst(rst), .cfg_valid(head_cfg), .cfg_desc(desc_raw), .start(head_go), .busy(head_busy),
        .done(head_done), .overflow(head_overflow), .band_valid(hd_band_valid), .band_ready(head_band_ready),
        .band_level(i_level), .band_row0(i_row0), .band_rows(i_rows), .band_plane(i_sstride), .band_box_base(i_sword),
        .band_cls_base(i_class), .band_done(head_band_done), .finish(hd_finish),
        .lutdir_addr(head_dir_addr), .lutdir_data(lutdir_data),
        .fm_addr(head_fm_addr), .fm_data(fm_rd_data[HEAD_LANES*FW-1:0]), .exp_addr(head_exp_addr), .exp_data(head_exp_data),
        .sig_addr(head_sig_addr), .sig_data(head_sig_data), .res_addr(res_addr),
        .res_data(det_record), .det_count(det_count));
    always @(posedge clk) begin
        head_exp_data <= (head_exp_entry < YQ_HEAD_LUT_DEPTH) ? head_lut[head_exp_entry[HEAD_LUT_AW-1:0]] : 0;
        head_sig_data <= (head_sig_entry < YQ_HEAD_LUT_DEPTH) ? head_lut[head_sig_entry[HEAD_LUT_AW-1:0]] : 0;
    end

    // The eltwise engine reads only an input's out_c from its descriptor.
    always @(posedge clk) begin
        prog_data <= {DESC_W{1'b0}};
        if ({{(32-NODE_W){1'b0}}, prog_addr} < YQ_PROGRAM_DEPTH)
            prog_data[YQ_PROG_OUT_C_LSB +: YQ_PROG_OUT_C_WIDTH] <= outc_mem[prog_addr[YQ_PROGRAM_ADDR_BITS-1:0]];
        elt_rq_data <= (elt_rq_addr < 2 * RQBUF_DEPTH) ? rqbuf[elt_rq_addr[RQ_AW-1:0]] : 0;
        lutdir_data <= (dir_addr < YQ_LUT_DIR_DEPTH) ? lutdir_mem[dir_addr[YQ_LUT_DIR_ADDR_BITS-1:0]] : 0;
        // The conv engine finds its table in the table lanes' half of the
        // running band's constants.
        if (!head_busy) lutdir_data[YQ_LUTDIR_BASE_LSB +: YQ_LUTDIR_BASE_WIDTH] <= run_table_base;
        bias_data   <= (bias_addr < 2 * BBUF_DEPTH) ? bbuf[bias_addr[B_AW-1:0]] : 0;
        rq_data     <= (rq_addr < 2 * RQBUF_DEPTH) ? rqbuf[rq_addr[RQ_AW-1:0]] : 0;
    end

    // The weight buffer (rtl/yq_weight_buffer.v): the loader's weight beats
    // in, a tap's COLS weights a cycle out to the conv engine.
    yq_weight_buffer #(.GROUP(YQ_WEIGHT_GROUP), .W(YQ_WEIGHT_WIDTH), .SLOT_W(YQ_DRAM_WEIGHT_SLOT_BITS),
                       .PB(PB_WEIGHT), .HALF_ROWS(WBUF_DEPTH / YQ_WEIGHT_GROUP), .COLS(COLS)) u_weights (
        .clk(clk), .load_valid(ld_valid && ld_dst == DST_WEIGHT), .load_half(stage_half), .load_count(ld_count),
        .load_n(ld_n), .load_word(ld_word[PB_WEIGHT*YQ_DRAM_WEIGHT_SLOT_BITS-1:0]), .rd_addr(w_addr), .rd_data(w_data));

    // Every read lane's scratch address this cycle: set A (the running
    // engine's, or the detect head's) and set B (the add's second input, or
    // a stride-2 convolution tap's second output row).
    // Public for the bench's bank census (rtl_tb/top_bench.cpp --census).
    wire [ROWS*32-1:0] lane_addr_a /*verilator public_flat_rd*/;
    wire [ROWS*32-1:0] lane_addr_b /*verilator public_flat_rd*/;

    // ------------------------------------------------------------------
    // Copy unit: a Copy's runs from an output half into an input half, CP_N
    // words a cycle, while the engines stand still: stage 0 the words' lane
    // addresses (set A, consecutive), stage 1 the scratch memory reads them,
    // stage 2 they are held, stage 3 they are written through the loader's
    // port (the issuer waits in S_COPY, so the loader is idle).
    localparam CP_N = (ROWS < PB_FMAP) ? ROWS : PB_FMAP;
    localparam [31:0] CP_N32 = CP_N;
    reg         cp_active;              // runs left to read
    reg  [31:0] cp_src, cp_dst;         // the run's first source and destination words
    reg  [31:0] cp_off, cp_runs, cp_words, cp_src_stride, cp_dst_stride;
    wire [31:0] cp_left = cp_words - cp_off;
    wire [31:0] cp_n    = (cp_left < CP_N32) ? cp_left : CP_N32;
    localparam CP_AW = $clog2(YQ_SCRATCH_WORDS + 1);
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0] cp_word32 = cp_src + cp_off;   // below YQ_SCRATCH_WORDS (checked at the Copy)
    /* verilator lint_on UNUSEDSIGNAL */
    wire [CP_AW-1:0] cp_word = cp_word32[CP_AW-1:0];
    reg  [ROWS*32-1:0]    cp_lane_addr;  // stage 1: set A's addresses
    reg  [31:0]           cp_base1, cp_base2, cp_wr_base;
    reg  [31:0]           cp_n1, cp_n2;
    reg                   cp_v1, cp_v2, cp_wr;
    reg  [PB_FMAP-1:0]    cp_wr_mask;
    reg  [PB_FMAP*FW-1:0] cp_wr_data;
    assign cp_done = !cp_go && !cp_active && !cp_v1 && !cp_v2 && !cp_wr;
    integer cl;
    always @(posedge clk) begin
        if (rst) begin
            cp_active <= 1'b0;
            cp_v1     <= 1'b0;
            cp_v2     <= 1'b0;
            cp_wr     <= 1'b0;
        end else begin
            if (cp_go) begin
                cp_active     <= 1'b1;
                cp_src        <= i_addr;
                cp_dst        <= i_sword;
                cp_off        <= 32'd0;
                cp_runs       <= i_channels;
                cp_words      <= i_words;
                cp_src_stride <= i_stride;
                cp_dst_stride <= i_sstride;
            end else if (cp_active) begin
                if (cp_off + cp_n == cp_words) begin   // the run's last words
                    cp_off  <= 32'd0;
                    cp_src  <= cp_src + cp_src_stride;
                    cp_dst  <= cp_dst + cp_dst_stride;
                    cp_runs <= cp_runs - 32'd1;
                    if (cp_runs == 32'd1) cp_active <= 1'b0;
                end else begin
                    cp_off <= cp_off + cp_n;
                end
            end
            cp_v1 <= cp_active && !cp_go;
            cp_v2 <= cp_v1;
            cp_wr <= cp_v2;
        end
        for (cl = 0; cl < ROWS; cl = cl + 1) begin   // scratch words: CP_AW bits
            cp_lane_addr[cl*32 +: 32] <= (cp_active && cl < cp_n) ? {{(32-CP_AW){1'b0}}, cp_word + cl[CP_AW-1:0]}
                                                                   : 32'hffff_ffff;
        end
        cp_base1   <= cp_dst + cp_off;
        cp_n1      <= cp_n;
        cp_base2   <= cp_base1;
        cp_n2      <= cp_n1;
        cp_wr_base <= cp_base2;
        for (cl = 0; cl < PB_FMAP; cl = cl + 1) begin
            cp_wr_mask[cl] <= cl < cp_n2;
            cp_wr_data[cl*FW +: FW] <= (cl < CP_N) ? fm_rd_data[cl*FW +: FW] : {FW{1'b0}};
        end
    end

    genvar i;
    generate
        for (i = 0; i < ROWS; i = i + 1) begin : g_row
            wire [31:0] h;
            if (i < HEAD_LANES) begin : g_head_lane
                assign h = head_fm_addr[i*32 +: 32];
            end else begin : g_no_head_lane
                assign h = 32'd0;
            end
            wire [31:0] a  = (i < HEAD_LANES && head_busy) ? h
                           : elt_busy ? elt_rd_addr0[i*32 +: 32] : cp_v1 ? cp_lane_addr[i*32 +: 32] : fm_rd_addr[i*32 +: 32];
            assign lane_addr_a[i*32 +: 32] = a;
            assign lane_addr_b[i*32 +: 32] = elt_busy ? elt_rd_addr1[i*32 +: 32] : fm_rd_addr_b[i*32 +: 32];

            // Table lane i (rtl/yq_table_lane.v): its own copy of the
            // constants' SiLU tables, both halves.
            yq_table_lane #(.DEPTH(TBUF_DEPTH), .W(YQ_LUT_WIDTH), .KNOTS(YQ_TABLE_INTERPOLATED), .URAM(TABLE_URAM)) u_table (
                .clk(clk), .we(table_we), .whalf(stage_half), .waddr(ld_count), .wdata(table_wd),
                .addr(lut_addr[i*32 +: 32]), .data0(lut_data0[i*YQ_LUT_WIDTH +: YQ_LUT_WIDTH]),
                .data1(lut_data1[i*YQ_LUT_WIDTH +: YQ_LUT_WIDTH]));
        end
    endgenerate

    // The scratch memory (rtl/yq_scratch.v): set A and set B of the read
    // lanes with their steps (the element-wise engine's set B reads
    // consecutive words), an engine's write of ROWS words, a load's beat of
    // words, the store unit's beat; the head bands' channel pitch tells it
    // how the head's lanes fall on its banks.
    wire [1:0]         a_step  = elt_busy ? elt_rd_step0 : cp_v1 ? YQ_STEP_ONE : fm_rd_step;
    wire [1:0]         b_step  = elt_busy ? YQ_STEP_ONE : fm_rd_step;
    wire               wr_en   = fm_wr_en | elt_wr_en;
    wire [31:0]        wr_base = elt_wr_en ? elt_wr_addr : fm_wr_addr;
    wire [ROWS-1:0]    wr_mask = elt_wr_en ? elt_wr_mask : fm_wr_mask;
    wire [ROWS*FW-1:0] wr_data = elt_wr_en ? elt_wr_data : fm_wr_data;
    // A narrow slot narrower than FW holds a code's low NSLOT bits (sign-
    // extended here); other slots hold the whole word.
    localparam NTAKE = (NSLOT < FW) ? NSLOT : FW;
    reg  [PB_FMAP-1:0]    ld_mask;
    reg  [PB_FMAP*FW-1:0] ld_data;
    wire                  ld_narrow = ONE_SLOT || (ld_slot_log2 == LOG_NSLOT);
    // An UpsampleLoad's words go in twice each (ld_dup): word r of the
    // write is the pulse's word r / 2.
    reg  [PB_FMAP*FW-1:0] ld_words_in;
    integer r;
    always @(*) begin
        ld_words_in = {PB_FMAP*FW{1'b0}};
        for (r = 0; r < PB_FMAP; r = r + 1) begin
            ld_mask[r] = ld_dup ? (r < 2 * ld_n) : (r < ld_n);
            if (ld_narrow)
                ld_words_in[r*FW +: FW] = {{(FW+1-NTAKE){ld_word[r*NSLOT+NTAKE-1]}}, ld_word[r*NSLOT +: NTAKE-1]};
        end
        for (r = 0; r < PB_WIDE; r = r + 1) begin
            if (!ld_narrow) ld_words_in[r*FW +: FW] = ld_word[r*WSLOT +: FW];
        end
        for (r = 0; r < PB_FMAP; r = r + 1) ld_data[r*FW +: FW] = ld_dup ? ld_words_in[(r/2)*FW +: FW] : ld_words_in[r*FW +: FW];
    end
    wire                  sc_st_en, sc_st_grant;
    wire [31:0]           sc_st_base;
    wire [PB_FMAP-1:0]    sc_st_mask;
    wire [PB_FMAP*FW-1:0] sc_st_data;
    yq_scratch #(.ROWS(ROWS), .FW(FW), .PB(PB_FMAP), .IN_WORDS(YQ_BAND_INPUT_WORDS), .OUT_WORDS(YQ_BAND_OUTPUT_WORDS),
                 .CHECK(SCRATCH_CHECK), .ANY_LANES(HEAD_LANES), .ANY_PITCH_MODULUS(YQ_HEAD_PITCH_MODULUS)) u_scratch (
        .clk(clk), .a_any(head_busy), .a_addr(lane_addr_a), .a_step(a_step), .a_data(fm_rd_data),
        .b_addr(lane_addr_b), .b_step(b_step), .b_data(elt_rd_data1),
        .wr_en(wr_en), .wr_base(wr_base), .wr_mask(wr_mask), .wr_data(wr_data),
        .ld_en((ld_valid && ld_dst == DST_SCRATCH) || cp_wr), .ld_base(cp_wr ? cp_wr_base : ld_sc_addr),
        .ld_mask(cp_wr ? cp_wr_mask : ld_mask), .ld_data(cp_wr ? cp_wr_data : ld_data),
        .st_en(sc_st_en), .st_base(sc_st_base), .st_mask(sc_st_mask), .st_grant(sc_st_grant), .st_data(sc_st_data),
        .conflict(bank_conflict));

    // ------------------------------------------------------------------
    // Store unit: a Store's runs (channels), one after the other, from the
    // scratch memory into DRAM while the issuer goes on: it latches the
    // instruction (st_go), then per run requests a write at su_addr (any
    // byte of a beat; su_req until the writer takes it, which it does as soon
    // as the run before has sent its beats, its write responses still to
    // come) and feeds it beats: beat n carries the run's words n * P + k -
    // skip in its slots k (P slots of the Store's width a beat: PB_FMAP
    // narrow or PB_WIDE wide ones; a narrow slot narrower than FW takes a
    // word's low NSLOT bits, any other the word zero-extended), the slots
    // before the first word and after the last unstrobed by the writer. The
    // store is over at the writer's done after the last run's beats; a write
    // response other than OKAY ends it (su_failed, su_node).
    reg         su_busy /*verilator public_flat_rd*/;
    reg         su_req, su_sent, su_failed;
    assign failed_meanwhile = engine_failed || su_failed || bank_failed;
    reg  [NODE_W-1:0] su_node;
    reg  [YQ_BAND_READS_WIDTH-1:0] su_reads;
    reg  [31:0] su_c, su_channels, su_words, su_addr, su_stride, su_sword, su_sstride;
    reg  [4:0]  su_slot_log2;           // the Store's slots: 2^su_slot_log2 bits
    wire [4:0]  su_slot      = ONE_SLOT ? LOG_NSLOT : su_slot_log2;
    wire        su_narrow    = (su_slot == LOG_NSLOT);
    wire [4:0]  su_byte_log2 = su_slot - 5'd3;
    wire [4:0]  su_beat_log2 = BEAT_LOG2[4:0] - su_slot;   // log2 of the slots a beat
    reg         st_active;              // a run is going through the writer
    reg  [31:0] st_beat, st_beats, st_skip;
    wire [31:0] st_lead  = {{(32-BEAT_LOG2+3){1'b0}}, su_addr[BEAT_LOG2-4:0]};   // bytes of the first beat before the run
    wire [31:0] st_bytes = su_words << su_byte_log2;
    // Beats are read from the scratch memory a cycle before they go: up to
    // two wait in st_buf (st_count), one more may be on its way (st_inflight);
    // a read waits while set B uses a bank it needs (the scratch's grant).
    reg  [31:0] st_fetch;           // the next beat to read
    reg         st_inflight;        // a beat read last cycle, its data out now
    reg  [1:0]  st_count;
    reg  [AXI_DATA_W-1:0] st_buf0, st_buf1, st_arrive;
    reg  [PB_FMAP-1:0]    st_mask;
    // The slots of the beat to read that hold the run's words, [st_lo,
    // st_hi): the run's words are its beats' slots st_skip .. st_skip +
    // su_words - 1, the beat's first slot is st_fetch << su_beat_log2, and a
    // beat has 1 << su_beat_log2 slots (one range, not a slot index and its
    // comparisons per slot).
    localparam SLOT_W = $clog2(PB_FMAP + 1);
    localparam [31:0] PB_FMAP_32 = PB_FMAP;
    wire [31:0] st_first_slot = st_fetch << su_beat_log2;
    wire [31:0] st_beat_slots = 32'd1 << su_beat_log2;
    wire [31:0] st_words_end  = st_skip + su_words;
    wire [31:0] st_lo_32 = (st_skip > st_first_slot) ? st_skip - st_first_slot : 32'd0;
    wire [31:0] st_hi_32 = (st_words_end > st_first_slot) ? st_words_end - st_first_slot : 32'd0;
    wire [31:0] st_hi_in = (st_hi_32 < st_beat_slots) ? st_hi_32 : st_beat_slots;
    wire [SLOT_W-1:0] st_lo = (st_lo_32 > PB_FMAP_32) ? PB_FMAP_32[SLOT_W-1:0] : st_lo_32[SLOT_W-1:0];
    wire [SLOT_W-1:0] st_hi = (st_hi_in > PB_FMAP_32) ? PB_FMAP_32[SLOT_W-1:0] : st_hi_in[SLOT_W-1:0];
    integer sk;
    always @(*) begin
        st_arrive = {AXI_DATA_W{1'b0}};
        for (sk = 0; sk < PB_FMAP; sk = sk + 1) begin
            st_mask[sk] = sk >= st_lo && sk < st_hi;
            if (su_narrow) st_arrive[sk*NSLOT +: NTAKE] = sc_st_data[sk*FW +: NTAKE];
        end
        for (sk = 0; sk < PB_WIDE; sk = sk + 1) begin
            if (!su_narrow) st_arrive[sk*WSLOT +: FW] = sc_st_data[sk*FW +: FW];
        end
    end
    wire st_valid = st_active && st_count != 2'd0;
    wire st_pop   = st_valid && wr_ready;
    wire st_take  = su_req && wr_take_ready;    // the writer takes the run's request
    wire st_last  = st_pop && st_beat + 32'd1 == st_beats;   // its last beat goes
    wire [31:0] st_held = {30'd0, st_count} + {31'd0, st_inflight} - {31'd0, st_pop};
    assign sc_st_en   = st_active && st_fetch < st_beats && st_held <= 32'd1;
    assign sc_st_base = su_sword + st_first_slot - st_skip;
    assign sc_st_mask = st_mask;
    wire [AXI_DATA_W-1:0] st_data = st_buf0;
    always @(posedge clk) begin
        if (rst || st_take) begin
            st_fetch    <= 32'd0;
            st_inflight <= 1'b0;
            st_count    <= 2'd0;
        end else begin
            st_inflight <= sc_st_en && sc_st_grant;
            if (sc_st_en && sc_st_grant) st_fetch <= st_fetch + 32'd1;
            case ({st_inflight, st_pop})
                2'b10: begin
                    if (st_count == 2'd0) st_buf0 <= st_arrive;
                    else st_buf1 <= st_arrive;
                    st_count <= st_count + 2'd1;
                end
                2'b01: begin
                    st_buf0  <= st_buf1;
                    st_count <= st_count - 2'd1;
                end
                2'b11: begin
                    if (st_count == 2'd1) st_buf0 <= st_arrive;
                    else begin
                        st_buf0 <= st_buf1;
                        st_buf1 <= st_arrive;
                    end
                end
                default: ;
            endcase
        end
    end
    always @(posedge clk) begin
        if (rst || (state == S_IDLE && start_req)) begin
            su_busy   <= 1'b0;
            su_req    <= 1'b0;
            st_active <= 1'b0;
            su_failed <= 1'b0;
        end else if (st_go) begin
            su_busy     <= 1'b1;
            su_req      <= 1'b1;
            su_sent     <= 1'b0;
            su_node     <= i_node;
            su_reads    <= i_reads;
            su_c        <= 32'd0;
            su_channels <= i_runs;
            su_words    <= i_run_words;
            su_addr     <= i_addr;
            su_stride   <= i_stride;
            su_sword    <= i_sword;
            su_sstride  <= i_sstride;
            su_slot_log2 <= i_slot_log2;
        end else if (su_busy) begin
            if (st_take) begin
                su_req    <= 1'b0;
                st_active <= 1'b1;
                st_beat   <= 32'd0;
                st_skip   <= st_lead >> su_byte_log2;
                st_beats  <= (st_lead + st_bytes + BEAT_BYTES - 1) >> (BEAT_LOG2 - 3);
            end
            if (st_pop) st_beat <= st_beat + 32'd1;
            if (st_last) begin
                st_active <= 1'b0;
                if (su_c + 32'd1 < su_channels) begin
                    su_c     <= su_c + 32'd1;
                    su_addr  <= su_addr + su_stride;
                    su_sword <= su_sword + su_sstride;
                    su_req   <= 1'b1;
                end else begin
                    su_sent <= 1'b1;
                end
            end
            if (wr_done && wr_error) begin
                su_failed <= 1'b1;
                su_busy   <= 1'b0;
                su_req    <= 1'b0;
                st_active <= 1'b0;
            end else if (wr_done && su_sent) begin
                su_busy <= 1'b0;
            end
        end
    end

    // ------------------------------------------------------------------
    // The detection list to DRAM (S_WRITE_DET .. S_WAIT_WRITE): slots 0 ..
    // det_count, each read from the result memory (slot i = its word i; slot
    // 0 built from det_count), packed into beats (a slot spans beats, or a
    // beat holds several slots) and streamed into yq_axi_writer.
    localparam DSLOT = YQ_DRAM_DETECTIONS_SLOT_BITS;
    localparam DSR_W = (DSLOT > AXI_DATA_W) ? DSLOT : AXI_DATA_W;
    localparam [1:0] F_IDLE = 2'd0, F_READ = 2'd1, F_TAKE = 2'd2, F_EMIT = 2'd3;
    reg  [1:0]  feed;
    reg  [31:0] feed_slot;          // the slot being read
    reg  [31:0] feed_fill;          // bits of dsr not yet written
    reg  [DSR_W-1:0] dsr;           // beats being assembled
    reg         wr_start;
    wire        wr_busy, wr_take_ready, wr_done, wr_error, wr_ready;
    // The writer serves the store unit (a run's request while su_req) and the list.
    wire [31:0] wr_bytes = su_req ? st_bytes : (det_count + 32'd1) * (DSLOT / 8);
    wire [31:0] wr_addr_full = dram_base + (su_req ? su_addr : YQ_DRAM_DETECTIONS_BASE);
    // Result memory: the list's slot while writing, else the window's detection.
    assign res_addr = (feed != F_IDLE) ? feed_slot[DET_ADDR_W-1:0] : det_index[DET_ADDR_W-1:0] + 1'b1;
    reg  [DSR_W-1:0] det_slot;      // the slot read, in the low DSLOT bits
    always @(*) begin
        det_slot = {DSR_W{1'b0}};
        if (feed_slot == 32'd0)
            det_slot[YQ_DET_LIST_COUNT_LSB +: YQ_DET_LIST_COUNT_WIDTH] = det_count[YQ_DET_LIST_COUNT_WIDTH-1:0];
        else
            det_slot[YQ_DET_WORD_BITS-1:0] = det_record;
    end
    wire [31:0] fill_after = feed_fill + DSLOT;
    wire        last_slot  = (feed_slot == det_count);

    always @(posedge clk) begin
        if (rst) begin
            feed <= F_IDLE;
        end else case (feed)
            F_IDLE: if (state == S_WRITE_DET) begin
                feed      <= F_READ;
                feed_slot <= 32'd0;
                feed_fill <= 32'd0;
                dsr       <= {DSR_W{1'b0}};
            end
            F_READ: feed <= F_TAKE;   // res_data follows res_addr by a cycle
            F_TAKE: begin
                dsr       <= dsr | (det_slot << feed_fill);
                feed_fill <= fill_after;
                if (fill_after >= AXI_DATA_W || last_slot) feed <= F_EMIT;
                else begin
                    feed_slot <= feed_slot + 32'd1;
                    feed      <= F_READ;
                end
            end
            F_EMIT: if (wr_ready) begin
                dsr <= dsr >> AXI_DATA_W;
                if (feed_fill > AXI_DATA_W) feed_fill <= feed_fill - AXI_DATA_W;
                else begin
                    feed_fill <= 32'd0;
                    if (last_slot) feed <= F_IDLE;
                    else begin
                        feed_slot <= feed_slot + 32'd1;
                        feed      <= F_READ;
                    end
                end
            end
            default: feed <= F_IDLE;
        endcase
    end

    yq_axi_writer #(.DATA_W(AXI_DATA_W), .ADDR_W(AXI_ADDR_W)) u_writer (
        .clk(clk), .rst(rst), .start(wr_start || st_take), .addr(wr_addr_full[AXI_ADDR_W-1:0]), .bytes(wr_bytes),
        .busy(wr_busy), .ready(wr_take_ready), .done(wr_done), .error(wr_error),
        .in_valid(feed == F_EMIT || st_valid), .in_ready(wr_ready),
        .in_data(st_active ? st_data : dsr[AXI_DATA_W-1:0]),
        .m_awvalid(m_awvalid), .m_awready(m_awready), .m_awaddr(m_awaddr), .m_awlen(m_awlen),
        .m_awsize(m_awsize), .m_awburst(m_awburst), .m_wvalid(m_wvalid), .m_wready(m_wready),
        .m_wdata(m_wdata), .m_wstrb(m_wstrb), .m_wlast(m_wlast), .m_bvalid(m_bvalid), .m_bready(m_bready),
        .m_bresp(m_bresp)
    );

    // Set bits of a write strobe: the bytes a beat writes.
    function [31:0] strobed_bytes(input [AXI_DATA_W/8-1:0] strobe);
        integer b;
        begin
            strobed_bytes = 32'd0;
            for (b = 0; b < AXI_DATA_W / 8; b = b + 1) strobed_bytes = strobed_bytes + {31'd0, strobe[b]};
        end
    endfunction

    wire unused_ok = ^{ins[YQ_BAND_LEVEL_LSB + HL_W +: YQ_BAND_LEVEL_WIDTH - HL_W], rd_last, ld_word, sr[AXI_DATA_W-1:0], det_offset[1:0], wr_busy,
                       b_ld_addr[31:B_AW], rq_ld_addr[31:RQ_AW], table_entry};
endmodule
