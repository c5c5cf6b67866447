// yq_layer_top: simulation top of the layer bench (layer_bench.cpp): the
// memories of one stage_7 emission around rtl/yq_conv_engine.v (conv
// descriptors) and rtl/yq_eltwise_engine.v (every other op), driven either
// by the bench or by rtl/yq_sequencer.v:
//   start        runs program[node] on the engine of its op; busy, done and
//                error are those of that engine;
//   seq_start    runs the whole program with the sequencer (seq_pause,
//                seq_resume, seq_busy, seq_done, seq_error, seq_node,
//                seq_layer_done: its ports).
//
// Built per emission: Verilator compiles it with -I<dir holding the run's
// yq_params.vh> and -I../rtl (yq_format.vh), so every width and depth comes
// from yq_params.vh and every field position and code from yq_format.vh; an
// emission of another format version stops the simulation ($fatal). The ROM
// images are read with $readmemh at time 0 from the folder given as the
// plusarg +yq_stage7=<absolute path> (file names YQ_*_FILE of yq_params.vh);
// a missing file stops the simulation ($fatal) instead of leaving a memory
// at zero.
//
// Memories (reads synchronous, one cycle; an address past the end reads 0):
//   program   808-bit descriptors; the engines get program[node] (or the
//             sequencer's fetched descriptor); a second read port serves the
//             eltwise engine (concat input shapes), a third the sequencer
//   lut_dir   LUT directory
//   weight    one read of COLS consecutive words (a slice of a weight row)
//   bias      one read port
//   requant   one read port per engine
//   lut       ROWS lanes, two consecutive words each
//   fmap      ROWS read lanes and one ROWS-word write port (either engine),
//             ROWS more read lanes (the eltwise engine's second input), plus
//             a one-word host port (host_we / host_addr / host_wdata, and
//             host_rdata = fmap[host_addr] one cycle later) through which the
//             bench loads golden inputs and reads results while the engine
//             is idle.
// wr_words counts the feature-map words the engine wrote since start.
module yq_layer_top #(
    parameter ROWS = 8,
    parameter COLS = 8
) (clk, rst, start, node, busy, done, error, host_we, host_addr, host_wdata, host_rdata, wr_words,
   seq_start, seq_pause, seq_resume, seq_busy, seq_done, seq_error, seq_node, seq_layer_done);
    /* verilator lint_off UNUSEDPARAM */
    `include "yq_format.vh"
    `include "yq_params.vh"
    /* verilator lint_on UNUSEDPARAM */

    localparam FW = YQ_FMAP_WIDTH;
    localparam NODE_W = YQ_PROG_NODE_WIDTH;

    input  wire                            clk;
    input  wire                            rst;
    input  wire                            start;
    input  wire [YQ_PROGRAM_ADDR_BITS-1:0] node;
    output wire                            busy;
    output wire                            done;
    output wire                            error;
    wire conv_busy, conv_done, conv_error, elt_busy, elt_done, elt_error;
    assign busy  = conv_busy | elt_busy;
    assign done  = conv_done | elt_done;
    assign error = conv_error | elt_error;
    input  wire                            host_we;
    input  wire [31:0]                     host_addr;
    input  wire [FW-1:0]                   host_wdata;
    output reg  [FW-1:0]                   host_rdata;
    output reg  [31:0]                     wr_words;
    input  wire                            seq_start;
    input  wire                            seq_pause;
    input  wire                            seq_resume;
    output wire                            seq_busy;
    output wire                            seq_done;
    output wire                            seq_error;
    output wire [NODE_W-1:0]               seq_node;
    output wire                            seq_layer_done;

    reg [YQ_PROGRAM_WIDTH-1:0] program_rom [0:YQ_PROGRAM_DEPTH-1];
    reg [YQ_LUT_DIR_WIDTH-1:0] lutdir_rom  [0:YQ_LUT_DIR_DEPTH-1];
    reg [YQ_WEIGHT_WIDTH-1:0]  weight_rom  [0:YQ_WEIGHT_DEPTH-1];
    reg [YQ_BIAS_WIDTH-1:0]    bias_rom    [0:YQ_BIAS_DEPTH-1];
    reg [YQ_REQUANT_WIDTH-1:0] requant_rom [0:YQ_REQUANT_DEPTH-1];
    reg [YQ_LUT_WIDTH-1:0]     lut_rom     [0:YQ_LUT_DEPTH-1];
    reg [FW-1:0]               fmap        [0:YQ_FMAP_DEPTH-1];

    task load_rom_check(input string file);
        integer fd;
        begin
            fd = $fopen(file, "r");
            if (fd == 0) $fatal(1, "yq_layer_top: cannot open %0s (pass +yq_stage7=<absolute stage_7 folder>)", file);
            $fclose(fd);
        end
    endtask

    initial begin
        string dir;
        if (YQ_PARAMS_FORMAT_VERSION != YQ_FORMAT_VERSION)
            $fatal(1, "yq_layer_top: the emission is format version %0d, the RTL's yq_format.vh %0d",
                   YQ_PARAMS_FORMAT_VERSION, YQ_FORMAT_VERSION);
        if (!$value$plusargs("yq_stage7=%s", dir)) $fatal(1, "yq_layer_top: +yq_stage7=<absolute stage_7 folder> missing");
        if (dir.len() == 0 || dir.getc(0) != "/") $fatal(1, "yq_layer_top: +yq_stage7 must be an absolute path: %0s", dir);
        load_rom_check($sformatf("%0s/%0s", dir, YQ_PROGRAM_FILE));
        load_rom_check($sformatf("%0s/%0s", dir, YQ_LUT_DIR_FILE));
        load_rom_check($sformatf("%0s/%0s", dir, YQ_WEIGHT_FILE));
        load_rom_check($sformatf("%0s/%0s", dir, YQ_BIAS_FILE));
        load_rom_check($sformatf("%0s/%0s", dir, YQ_REQUANT_FILE));
        load_rom_check($sformatf("%0s/%0s", dir, YQ_LUT_FILE));
        $readmemh($sformatf("%0s/%0s", dir, YQ_PROGRAM_FILE), program_rom);
        $readmemh($sformatf("%0s/%0s", dir, YQ_LUT_DIR_FILE), lutdir_rom);
        $readmemh($sformatf("%0s/%0s", dir, YQ_WEIGHT_FILE), weight_rom);
        $readmemh($sformatf("%0s/%0s", dir, YQ_BIAS_FILE), bias_rom);
        $readmemh($sformatf("%0s/%0s", dir, YQ_REQUANT_FILE), requant_rom);
        $readmemh($sformatf("%0s/%0s", dir, YQ_LUT_FILE), lut_rom);
    end

    // Engine ports.
    wire [YQ_PROG_ACT_LUT_WIDTH-1:0] lutdir_addr;
    reg  [YQ_LUT_DIR_WIDTH-1:0] lutdir_data;
    wire [31:0]               bias_addr, rq_addr;
    reg  [YQ_BIAS_WIDTH-1:0]  bias_data;
    reg  [YQ_REQUANT_WIDTH-1:0] rq_data;
    wire [31:0]               w_addr;
    wire [COLS*YQ_WEIGHT_WIDTH-1:0] w_data;
    wire [ROWS*32-1:0]        fm_rd_addr, fm_rd_addr_b;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [1:0]                fm_rd_step, elt_rd_step0;   // the lane sets' steps: this memory serves any words
    /* verilator lint_on UNUSEDSIGNAL */
    wire [ROWS*FW-1:0]        fm_rd_data;
    wire                      fm_wr_en;
    wire [31:0]               fm_wr_addr;
    wire [ROWS-1:0]           fm_wr_mask;
    wire [ROWS*FW-1:0]        fm_wr_data;
    wire [ROWS*32-1:0]        lut_addr;
    wire [ROWS*YQ_LUT_WIDTH-1:0] lut_data0, lut_data1;

    // The sequencer, with its own program ROM port.
    wire [NODE_W-1:0]           seq_prog_addr;
    reg  [YQ_PROGRAM_WIDTH-1:0] seq_prog_data;
    wire [YQ_PROGRAM_WIDTH-1:0] seq_desc;
    wire                        seq_conv_start, seq_elt_start;
    localparam [31:0] NUM_LAYERS32 = YQ_NUM_LAYERS;
    localparam [NODE_W-1:0] NUM_NODES = NUM_LAYERS32[NODE_W-1:0];

    yq_sequencer u_sequencer (
        .clk         (clk),
        .rst         (rst),
        .start       (seq_start),
        .num_nodes   (NUM_NODES),
        .pause       (seq_pause),
        .resume      (seq_resume),
        .busy        (seq_busy),
        .done        (seq_done),
        .error       (seq_error),
        .node        (seq_node),
        .layer_done  (seq_layer_done),
        .prog_addr   (seq_prog_addr),
        .prog_data   (seq_prog_data),
        .desc        (seq_desc),
        .conv_start  (seq_conv_start),
        .elt_start   (seq_elt_start),
        .engine_done (done),
        .engine_error(error)
    );
    always @(posedge clk) begin
        seq_prog_data <= ({{(32-NODE_W){1'b0}}, seq_prog_addr} < YQ_PROGRAM_DEPTH) ? program_rom[seq_prog_addr[YQ_PROGRAM_ADDR_BITS-1:0]] : 0;
    end

    // The engines' descriptor and starts: the sequencer's while it runs, else the bench's.
    wire [YQ_PROGRAM_WIDTH-1:0] desc = seq_busy ? seq_desc : program_rom[node];
    wire [31:0] desc_op = {{(32-YQ_PROG_OP_WIDTH){1'b0}}, desc[YQ_PROG_OP_LSB +: YQ_PROG_OP_WIDTH]};
    wire is_conv = (desc_op == YQ_OP_CONV);
    wire conv_go = seq_busy ? seq_conv_start : start && is_conv;
    wire elt_go  = seq_busy ? seq_elt_start : start && !is_conv;

    yq_conv_engine #(
        .ROWS    (ROWS),
        .COLS    (COLS),
        .A_W     (FW),
        .W_W     (YQ_WEIGHT_WIDTH),
        .ACC_W   (YQ_BIAS_WIDTH),
        .MULT_W  (YQ_MULT_BITS),
        .SHIFT_W (YQ_SHIFT_BITS),
        .PRE_W   (YQ_PRE_BITS),
        .LUT_W   (YQ_LUT_WIDTH),
        .INTERP  (YQ_TABLE_INTERPOLATED),
        .RQ_SHIFT_MIN(YQ_CONV_SHIFT_MIN),
        .RQ_SHIFT_MAX(YQ_CONV_SHIFT_MAX),
        .DIM_W   (YQ_MAX_DIM_BITS),
        .PLANES  (YQ_FMAP_PLANES)
    ) u_engine (
        .clk        (clk),
        .rst        (rst),
        .start      (conv_go),
        .desc       (desc),
        .busy       (conv_busy),
        .done       (conv_done),
        .error      (conv_error),
        .lutdir_addr(lutdir_addr),
        .lutdir_data(lutdir_data),
        .bias_addr  (bias_addr),
        .bias_data  (bias_data),
        .rq_addr    (rq_addr),
        .rq_data    (rq_data),
        .w_addr     (w_addr),
        .w_data     (w_data),
        .fm_rd_addr (fm_rd_addr),
        .fm_rd_data (fm_rd_data),
        .fm_rd_addr_b(fm_rd_addr_b),
        .fm_rd_data_b(elt_rd_data1),
        .fm_rd_step (fm_rd_step),
        .fm_wr_en   (fm_wr_en),
        .fm_wr_addr (fm_wr_addr),
        .fm_wr_mask (fm_wr_mask),
        .fm_wr_data (fm_wr_data),
        .lut_addr   (lut_addr),
        .lut_data0  (lut_data0),
        .lut_data1  (lut_data1)
    );

    // The eltwise engine (ROWS lanes) and its ports: lanes 0 share the conv
    // engine's read lanes and write port (one engine runs at a time).
    wire [NODE_W-1:0]           prog_addr;
    reg  [YQ_PROGRAM_WIDTH-1:0] prog_data;
    wire [31:0]                 elt_rq_addr, elt_wr_addr;
    wire [ROWS*32-1:0]          elt_rd_addr0, elt_rd_addr1;
    reg  [YQ_REQUANT_WIDTH-1:0] elt_rq_data;
    wire [ROWS*FW-1:0]          elt_rd_data1;
    wire                        elt_wr_en;
    wire [ROWS-1:0]             elt_wr_mask;
    wire [ROWS*FW-1:0]          elt_wr_data;

    yq_eltwise_engine #(
        .LANES            (ROWS),
        .A_W              (FW),
        .MULT_W           (YQ_MULT_BITS),
        .SHIFT_W          (YQ_SHIFT_BITS),
        .DIM_W            (YQ_MAX_DIM_BITS)
    ) u_eltwise (
        .clk        (clk),
        .rst        (rst),
        .start      (elt_go),
        .desc       (desc),
        .busy       (elt_busy),
        .done       (elt_done),
        .error      (elt_error),
        .prog_addr  (prog_addr),
        .prog_data  (prog_data),
        .rq_addr    (elt_rq_addr),
        .rq_data    (elt_rq_data),
        .fm_rd_addr0(elt_rd_addr0),
        .fm_rd_data0(fm_rd_data),
        .fm_rd_step0(elt_rd_step0),
        .fm_rd_addr1(elt_rd_addr1),
        .fm_rd_data1(elt_rd_data1),
        .fm_wr_en   (elt_wr_en),
        .fm_wr_addr (elt_wr_addr),
        .fm_wr_mask (elt_wr_mask),
        .fm_wr_data (elt_wr_data)
    );

    always @(posedge clk) begin
        prog_data    <= ({{(32-NODE_W){1'b0}}, prog_addr} < YQ_PROGRAM_DEPTH) ? program_rom[prog_addr[YQ_PROGRAM_ADDR_BITS-1:0]] : 0;
        elt_rq_data  <= (elt_rq_addr < YQ_REQUANT_DEPTH) ? requant_rom[elt_rq_addr[YQ_REQUANT_ADDR_BITS-1:0]] : 0;
    end

    // Single-port ROMs.
    always @(posedge clk) begin
        lutdir_data <= ({{(32-YQ_PROG_ACT_LUT_WIDTH){1'b0}}, lutdir_addr} < YQ_LUT_DIR_DEPTH) ? lutdir_rom[lutdir_addr[YQ_LUT_DIR_ADDR_BITS-1:0]] : 0;
        bias_data   <= (bias_addr < YQ_BIAS_DEPTH) ? bias_rom[bias_addr[YQ_BIAS_ADDR_BITS-1:0]] : 0;
        rq_data     <= (rq_addr < YQ_REQUANT_DEPTH) ? requant_rom[rq_addr[YQ_REQUANT_ADDR_BITS-1:0]] : 0;
    end

    genvar i;
    generate
        for (i = 0; i < COLS; i = i + 1) begin : g_weight
            wire [31:0] a = w_addr + i;
            reg  [YQ_WEIGHT_WIDTH-1:0] q;
            always @(posedge clk) q <= (a < YQ_WEIGHT_DEPTH) ? weight_rom[a[YQ_WEIGHT_ADDR_BITS-1:0]] : 0;
            assign w_data[i*YQ_WEIGHT_WIDTH +: YQ_WEIGHT_WIDTH] = q;
        end
        for (i = 0; i < ROWS; i = i + 1) begin : g_row
            wire [31:0] a  = elt_busy ? elt_rd_addr0[i*32 +: 32] : fm_rd_addr[i*32 +: 32];
            wire [31:0] b  = elt_busy ? elt_rd_addr1[i*32 +: 32] : fm_rd_addr_b[i*32 +: 32];
            wire [31:0] l  = lut_addr[i*32 +: 32];
            wire [31:0] l1 = l + 32'd1;
            reg  [FW-1:0] q, qb;
            reg  [YQ_LUT_WIDTH-1:0] q0, q1;
            always @(posedge clk) begin
                q  <= (a < YQ_FMAP_DEPTH) ? fmap[a[YQ_FMAP_ADDR_BITS-1:0]] : 0;
                qb <= (b < YQ_FMAP_DEPTH) ? fmap[b[YQ_FMAP_ADDR_BITS-1:0]] : 0;
                q0 <= (l < YQ_LUT_DEPTH) ? lut_rom[l[YQ_LUT_ADDR_BITS-1:0]] : 0;
                q1 <= (l1 < YQ_LUT_DEPTH) ? lut_rom[l1[YQ_LUT_ADDR_BITS-1:0]] : 0;
            end
            assign fm_rd_data[i*FW +: FW] = q;
            assign elt_rd_data1[i*FW +: FW] = qb;
            assign lut_data0[i*YQ_LUT_WIDTH +: YQ_LUT_WIDTH] = q0;
            assign lut_data1[i*YQ_LUT_WIDTH +: YQ_LUT_WIDTH] = q1;
        end
    endgenerate

    // Feature-map writes (the engine writing, host) and the host read.
    wire               wr_en   = fm_wr_en | elt_wr_en;
    wire [31:0]        wr_base = elt_wr_en ? elt_wr_addr : fm_wr_addr;
    wire [ROWS-1:0]    wr_mask = elt_wr_en ? elt_wr_mask : fm_wr_mask;
    wire [ROWS*FW-1:0] wr_data = elt_wr_en ? elt_wr_data : fm_wr_data;
    wire [ROWS*32-1:0] wr_addr_vec;
    generate
        for (i = 0; i < ROWS; i = i + 1) begin : g_wr
            assign wr_addr_vec[i*32 +: 32] = wr_base + i;
        end
    endgenerate

    integer r;
    always @(posedge clk) begin
        if (host_we && host_addr < YQ_FMAP_DEPTH) fmap[host_addr[YQ_FMAP_ADDR_BITS-1:0]] <= host_wdata;
        if (wr_en) begin
            for (r = 0; r < ROWS; r = r + 1) begin
                if (wr_mask[r] && wr_addr_vec[r*32 +: 32] < YQ_FMAP_DEPTH)
                    fmap[wr_addr_vec[r*32 +: YQ_FMAP_ADDR_BITS]] <= wr_data[r*FW +: FW];
            end
        end
        host_rdata <= (host_addr < YQ_FMAP_DEPTH) ? fmap[host_addr[YQ_FMAP_ADDR_BITS-1:0]] : 0;
        if (conv_go || elt_go) wr_words <= 32'd0;
        else if (wr_en) wr_words <= wr_words + {{(32-$clog2(ROWS+1)){1'b0}}, count_ones(wr_mask)};
    end

    function [$clog2(ROWS+1)-1:0] count_ones(input [ROWS-1:0] m);
        integer k;
        begin
            count_ones = 0;
            for (k = 0; k < ROWS; k = k + 1) count_ones = count_ones + {{($clog2(ROWS+1)-1){1'b0}}, m[k]};
        end
    endfunction
endmodule
