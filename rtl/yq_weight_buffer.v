// yq_weight_buffer: yq_top's double-buffered weight buffer, one memory of
// rows of GROUP weights (docs/ARTIFACTS.md section 3: a row holds one tap of
// GROUP consecutive output channels).
//
// Write side (the loader): a load's words arrive in order, up to PB a beat
// (load_n of them, load_word's slots of SLOT_W bits, weights in the low W
// bits), load_count words already written by this load. stage_7 pads every
// convolution's weights to whole rows and starts each at a row, so a beat
// never spans two rows: its words go into a staging row at column
// load_count mod GROUP, and the row is written whole once its last word is
// in, at row load_count / GROUP of half load_half. Words past a half
// (load_count >= HALF_ROWS * GROUP) are dropped.
//
// Read side (the conv engine): rd_addr is a word address whose column (a
// multiple of COLS) is the first of the COLS words it wants; rd_data is
// those words of the row one cycle later (words past the row's end read 0).
// Write side: a beat starts at a multiple of PB words of its row.
//
// One write port and one read port: a block RAM or UltraRAM memory
// GROUP * W bits wide and 2 * HALF_ROWS deep.
module yq_weight_buffer #(
    parameter GROUP     = 32,
    parameter W         = 8,
    parameter SLOT_W    = 8,
    parameter PB        = 16,
    parameter HALF_ROWS = 1024,
    parameter COLS      = 16
) (
    input  wire                 clk,
    input  wire                 load_valid,
    input  wire                 load_half,
    input  wire [31:0]          load_count,
    input  wire [31:0]          load_n,
    input  wire [PB*SLOT_W-1:0] load_word,
    input  wire [31:0]          rd_addr,
    output wire [COLS*W-1:0]    rd_data
);
    localparam ROW_W = GROUP * W;
    localparam LOG_GROUP = $clog2(GROUP);
    localparam AW = $clog2(2 * HALF_ROWS);
    localparam [31:0] HALF_WORDS = HALF_ROWS * GROUP;
    initial begin
        if (PB > GROUP) $fatal(1, "yq_weight_buffer: a beat of %0d weights, a row of %0d", PB, GROUP);
        if (COLS > GROUP) $fatal(1, "yq_weight_buffer: %0d columns, a row of %0d", COLS, GROUP);
    end

    reg  [ROW_W-1:0] mem [0:2*HALF_ROWS-1];   // half h from row h * HALF_ROWS

    // Staging row: the current row with this beat's words in.
    reg  [ROW_W-1:0] stage;
    reg  [ROW_W-1:0] stage_next;
    wire [31:0] column   = {{(32-LOG_GROUP){1'b0}}, load_count[LOG_GROUP-1:0]};
    wire        row_full = (column + load_n == GROUP);
    wire [31:0] row      = (load_half ? HALF_ROWS : 32'd0) + (load_count >> LOG_GROUP);
    // A beat starts at a multiple of PB words (whole beats from a row's
    // start), so it lands in one of GROUP / PB fixed places of the row.
    localparam BEATS = GROUP / PB;
    integer b, k;
    always @(*) begin
        stage_next = stage;
        for (b = 0; b < BEATS; b = b + 1)
            if (column == b * PB)
                for (k = 0; k < PB; k = k + 1)
                    if (k < load_n) stage_next[(b * PB + k) * W +: W] = load_word[k*SLOT_W +: W];
    end
    always @(posedge clk) begin
        if (load_valid) begin
            stage <= stage_next;
            if (row_full && load_count < HALF_WORDS) mem[row[AW-1:0]] <= stage_next;
        end
    end

    // Reads: the row, then the COLS words from the column.
    wire [31:0] rd_row = rd_addr >> LOG_GROUP;
    reg  [ROW_W-1:0]     row_q;
    reg  [LOG_GROUP-1:0] column_q;
    always @(posedge clk) begin
        row_q    <= (rd_row < 2 * HALF_ROWS) ? mem[rd_row[AW-1:0]] : {ROW_W{1'b0}};
        column_q <= rd_addr[LOG_GROUP-1:0];
    end
    // The engine's column is a multiple of COLS (its channel tiles start
    // there in a row): one of SLICES fixed slices, zero past the row's end.
    localparam SLICES = (GROUP + COLS - 1) / COLS;
    wire [SLICES*COLS*W+ROW_W-1:0] row_padded = {{(SLICES*COLS*W){1'b0}}, row_q};
    reg  [COLS*W-1:0] slice;
    integer c;
    always @(*) begin
        slice = {(COLS*W){1'b0}};
        for (c = 0; c < SLICES; c = c + 1)
            if ({{(32-LOG_GROUP){1'b0}}, column_q} == c * COLS) slice = row_padded[c*COLS*W +: COLS*W];
    end
    assign rd_data = slice;

    wire unused = ^{row[31:AW], rd_row[31:AW]};
endmodule
