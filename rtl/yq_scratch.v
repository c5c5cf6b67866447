// yq_scratch: yq_top's scratch memory (the band program's input-band and
// output-band halves) on memories a board has. Each of the four halves
// (input 0, input 1 at word IN_WORDS, output 0 at 2 * IN_WORDS, output 1 at
// 2 * IN_WORDS + OUT_WORDS) is NB = 2 * ROWS banks, word w of the scratch
// memory in bank w mod NB at row (w - half base) / NB; each bank is a
// dual-port RAM (rtl/yq_scratch_bank.v, block RAM): port A reads or writes,
// port B reads.
//
// Who uses which port (the band program's issuer and the engines make sure
// each port of each bank has one user and one word a cycle; conflict flags,
// a cycle later, a cycle where they did not, and the result is then
// undefined; CHECK = 0 leaves that check out, a quarter of the module's
// logic, for a board build that trusts the compiler):
//   port A  the read lanes of set A (the running engine's or the detect
//           head's ROWS lanes), the engines' write of up to ROWS consecutive
//           words (output halves only), the loader's write of up to PB
//           consecutive words (input halves only): each half serves one of
//           them in a cycle (the issuer never lets a load write a half an
//           engine reads);
//   port B  the read lanes of set B (the add's second input), and the store
//           unit's read of up to PB consecutive words (output halves only),
//           which waits (st_grant low) when set B uses one of its banks'
//           port B in the same half.
// Lanes of a set that read one word share it; words a set reads in one bank
// must be one word (the engines' lane sets are: docs/RTL.md, "The scratch
// memory"). Consecutive words fall in distinct banks when there are at most
// NB of them, so ROWS <= NB and PB <= NB.
//
// Lane sets: each set comes with its step (rtl/yq_lane_step.vh): its
// reading lanes k find their words at base + offset(k), consecutive words,
// words two apart, or each word on two lanes, so that each bank reads the
// one word of the set's window (NB words from its first reading lane's)
// it holds, its row given by the window's start alone, and the banks'
// words come back to the lanes by one rotation (by base) and a 4:1
// multiplexer a lane, where any words would take an NB:1 multiplexer a lane
// and a decode of every lane's bank in every bank. The detect head's lanes
// (a_any, lanes 0 .. ANY_LANES - 1, all reading) read words a channel
// apart, at a pitch of 1 modulo ANY_PITCH_MODULUS (stage_7's
// YQ_HEAD_PITCH_MODULUS). When NB divides it (ANY_ROTATE) lane q's word is
// in the bank q after lane 0's: in bank terms a step of one, each bank
// reading its lane's row, the lanes' rows rotated onto the banks
// (rtl/yq_rotate.v); without it each bank reads the OR of the rows of the
// lanes on it (NB x ANY_LANES x row bits of AND-OR, most of the module at
// 32 rows) and the head lanes take their words by their banks. A lane off
// its set's step, or a head lane whose bank reads another row, is a lane
// set asking a bank for two words, which the check flags.
//
// Reads are synchronous: the data of an address in cycle n is out in cycle
// n + 1. A lane whose address is past the scratch memory (all ones: no read)
// uses no bank and reads 0; so does a store word outside st_mask.
//
// Addresses are 32-bit word addresses. IN_WORDS and OUT_WORDS are multiples
// of NB (stage_7 sizes the halves in whole rows of 64 words).
module yq_scratch #(
    parameter ROWS      = 8,
    parameter FW        = 8,
    parameter PB        = 16,       // words of a load or store beat
    parameter IN_WORDS  = 4096,     // an input half
    parameter OUT_WORDS = 4096,     // an output half
    parameter CHECK     = 1,        // check each cycle's use of the banks (conflict)
    parameter ANY_LANES = ROWS,     // set A's lanes that may read any words (a_any)
    parameter ANY_PITCH_MODULUS = 2 * ROWS  // their words lie a pitch of 1 modulo this apart (2: any odd pitch)
) (
    input  wire               clk,
    input  wire               a_any,       // set A reads any words on lanes 0 .. ANY_LANES - 1, not a window
    input  wire [ROWS*32-1:0] a_addr,
    input  wire [1:0]         a_step,      // set A's step (yq_lane_step.vh; ignored while a_any)
    output wire [ROWS*FW-1:0] a_data,
    input  wire [ROWS*32-1:0] b_addr,
    input  wire [1:0]         b_step,
    output wire [ROWS*FW-1:0] b_data,
    input  wire               wr_en,       // the engines' write: word r at wr_base + r when wr_mask[r]
    input  wire [31:0]        wr_base,
    input  wire [ROWS-1:0]    wr_mask,
    input  wire [ROWS*FW-1:0] wr_data,
    input  wire               ld_en,       // the loader's write: word k at ld_base + k when ld_mask[k]
    input  wire [31:0]        ld_base,
    input  wire [PB-1:0]      ld_mask,
    input  wire [PB*FW-1:0]   ld_data,
    input  wire               st_en,       // the store unit's read: word k at st_base + k when st_mask[k]
    input  wire [31:0]        st_base,
    input  wire [PB-1:0]      st_mask,
    output wire               st_grant,    // the read is done this cycle (its data out the next)
    output wire [PB*FW-1:0]   st_data,
    output wire               conflict     // a cycle after the reads (CHECK = 1)
);
    `include "yq_lane_step.vh"
    localparam NB = 2 * ROWS;
    localparam ANY_ROTATE = (ANY_PITCH_MODULUS % NB == 0);  // the any lanes' words in consecutive banks
    localparam LB = $clog2(NB);
    localparam IN_ROWS = IN_WORDS / NB, OUT_ROWS = OUT_WORDS / NB;
    localparam [31:0] END_ROWS = 2 * IN_ROWS + 2 * OUT_ROWS;   // in rows of NB words
    localparam GW = $clog2(END_ROWS + 1);                     // bits of a row of the scratch memory
    localparam [31:0] HALF1_32 = IN_ROWS, HALF2_32 = 2 * IN_ROWS, HALF3_32 = 2 * IN_ROWS + OUT_ROWS;
    localparam [GW-1:0] HALF1 = HALF1_32[GW-1:0], HALF2 = HALF2_32[GW-1:0], HALF3 = HALF3_32[GW-1:0],
                        END_G = END_ROWS[GW-1:0];

    initial begin
        if ((1 << LB) != NB)
            $fatal(1, "yq_scratch: ROWS %0d, the banks need 2 * ROWS to be a power of two", ROWS);
        if (IN_WORDS % NB != 0 || OUT_WORDS % NB != 0 || IN_WORDS == 0 || OUT_WORDS == 0)
            $fatal(1, "yq_scratch: halves of %0d and %0d words, not whole rows of %0d banks", IN_WORDS, OUT_WORDS, NB);
        if (IN_ROWS < 2 || OUT_ROWS < 2)
            $fatal(1, "yq_scratch: halves of %0d and %0d words, fewer than two rows of %0d banks", IN_WORDS, OUT_WORDS, NB);
        if (PB > NB)
            $fatal(1, "yq_scratch: a beat of %0d words, more than the %0d banks", PB, NB);
    end

    // The half of a scratch row (0-3; 4: past the memory) and the row in it.
    // Halves of one power-of-two size (stage_7's default) need no
    // comparison: the half is a row's top bits.
    localparam POW2 = (IN_ROWS == OUT_ROWS) && ((IN_ROWS & (IN_ROWS - 1)) == 0);
    localparam LOG_H = $clog2(IN_ROWS);
    function automatic [2:0] half_of(input [GW-1:0] row);
        if (POW2) half_of = (row >= END_G) ? 3'd4 : {1'b0, row[LOG_H +: 2]};
        else      half_of = (row < HALF1) ? 3'd0 : (row < HALF2) ? 3'd1 : (row < HALF3) ? 3'd2 : (row < END_G) ? 3'd3 : 3'd4;
    endfunction
    function automatic [GW-1:0] local_row(input [GW-1:0] row);
        if (POW2) local_row = row & ((1 << LOG_H) - 1);
        else      local_row = (row < HALF1) ? row : (row < HALF2) ? row - HALF1 : (row < HALF3) ? row - HALF2 : row - HALF3;
    endfunction

    // ------------------------------------------------------------------
    // Per bank b: what each user wants of it (its scratch row, and for the
    // writes the word). Of a lane set, the lanes on a bank ask for one row
    // (the check below tells when they did not); the bank reads its set's
    // window's row, or its head lane's.
    wire [NB-1:0]   a_rd, b_rd, wr_hit, ld_hit, st_hit;
    wire [GW-1:0]   a_row [0:NB-1], b_row [0:NB-1], wr_row [0:NB-1], ld_row [0:NB-1], st_row [0:NB-1];
    wire [FW-1:0]   wr_word [0:NB-1], ld_word [0:NB-1];
    wire [ROWS-1:0] a_ok, b_ok;                 // the lane reads the scratch memory
    // A run's first row and whether it and the next lie in the memory (a
    // run's words in bank b are one row further when b lies below the
    // run's first bank).
    wire [31:0] wr_first = wr_base >> LB, ld_first = ld_base >> LB, st_first = st_base >> LB;
    wire wr_in0 = wr_first < END_ROWS, wr_in1 = wr_first + 32'd1 < END_ROWS;
    wire ld_in0 = ld_first < END_ROWS, ld_in1 = ld_first + 32'd1 < END_ROWS;
    wire st_in0 = st_first < END_ROWS, st_in1 = st_first + 32'd1 < END_ROWS;
    // A run's words and masks on the banks: word k of a run at base goes to
    // bank (base + k) mod NB, a rotation of the run (one rotator a user, not
    // a word multiplexer a bank); each bank's word carries its mask bit.
    wire [NB*(FW+1)-1:0] wr_run, ld_run, wr_on_bank, ld_on_bank;
    wire [NB-1:0]        st_run, st_on_bank;
    genvar b, h, k;
    generate
        for (k = 0; k < NB; k = k + 1) begin : g_run
            if (k < ROWS) begin : g_wr
                assign wr_run[k*(FW+1) +: FW+1] = {wr_mask[k], wr_data[k*FW +: FW]};
            end else begin : g_wr_none
                assign wr_run[k*(FW+1) +: FW+1] = {(FW+1){1'b0}};
            end
            if (k < PB) begin : g_beat
                assign ld_run[k*(FW+1) +: FW+1] = {ld_mask[k], ld_data[k*FW +: FW]};
                assign st_run[k] = st_mask[k];
            end else begin : g_beat_none
                assign ld_run[k*(FW+1) +: FW+1] = {(FW+1){1'b0}};
                assign st_run[k] = 1'b0;
            end
        end
    endgenerate
    yq_rotate #(.N(NB), .W(FW+1)) u_wr_rot (.in(wr_run), .amount(wr_base[LB-1:0]), .out(wr_on_bank));
    yq_rotate #(.N(NB), .W(FW+1)) u_ld_rot (.in(ld_run), .amount(ld_base[LB-1:0]), .out(ld_on_bank));
    yq_rotate #(.N(NB), .W(1))    u_st_rot (.in(st_run), .amount(st_base[LB-1:0]), .out(st_on_bank));

    // Each set's window: the address of its first lane that reads, and the
    // set's base (the bank lane 0 would read: the first reading lane's
    // less its offset), which the banks' words rotate by on their way back.
    function automatic [LB-1:0] lane_offset(input [1:0] step, input integer lane);
        /* verilator lint_off UNUSEDSIGNAL */
        reg [31:0] offset;   // below NB
        /* verilator lint_on UNUSEDSIGNAL */
        begin
            case (step)
                YQ_STEP_ONE:       offset = lane;
                YQ_STEP_TWO:       offset = 2 * lane;
                YQ_STEP_PAIRS:     offset = lane / 2;
                YQ_STEP_PAIRS_ODD: offset = (lane + 1) / 2;
            endcase
            lane_offset = offset[LB-1:0];
        end
    endfunction
    function automatic [LB-1:0] first_lane(input [ROWS-1:0] ok);   // 0 when none reads
        integer n;
        begin
            first_lane = {LB{1'b0}};
            for (n = ROWS - 1; n >= 0; n = n - 1) if (ok[n]) first_lane = n[LB-1:0];
        end
    endfunction
    // The banks a set reads: lane k's offset marked when it reads, the
    // offsets rotated up by the set's base.
    function automatic [NB-1:0] offsets_read(input [1:0] step, input [ROWS-1:0] ok);
        integer n;
        begin
            offsets_read = {NB{1'b0}};
            for (n = 0; n < ROWS; n = n + 1) if (ok[n]) offsets_read[lane_offset(step, n)] = 1'b1;
        end
    endfunction
    wire [1:0]    a_set_step = (a_any && ANY_ROTATE) ? YQ_STEP_ONE : a_step;   // the head's banks: a step of one
    wire [LB-1:0] a_first = first_lane(a_ok), b_first = first_lane(b_ok);
    wire [31:0]   a_win = a_addr[a_first*32 +: 32], b_win = b_addr[b_first*32 +: 32];
    wire [LB-1:0] a_base = a_win[LB-1:0] - lane_offset(a_set_step, {{(32-LB){1'b0}}, a_first});
    wire [LB-1:0] b_base = b_win[LB-1:0] - lane_offset(b_step, {{(32-LB){1'b0}}, b_first});
    wire [NB-1:0] a_set_rd, b_set_rd;   // the banks each set reads
    yq_rotate #(.N(NB), .W(1)) u_a_rd_rot (.in(offsets_read(a_set_step, a_ok)), .amount(a_base), .out(a_set_rd));
    yq_rotate #(.N(NB), .W(1)) u_b_rd_rot (.in(offsets_read(b_step, b_ok)), .amount(b_base), .out(b_set_rd));
    /* verilator lint_off UNUSEDSIGNAL */
    wire [31:0]   a_win_rows = a_win >> LB, b_win_rows = b_win >> LB;   // rows past GW bits: past the memory
    /* verilator lint_on UNUSEDSIGNAL */
    wire [GW-1:0] a_win_row = a_win_rows[GW-1:0], b_win_row = b_win_rows[GW-1:0];

    // With ANY_ROTATE, the row each bank reads for the detect head's lanes
    // (a_any): lane q's word lies in the bank q after lane 0's, so the
    // lanes' rows rotated by lane 0's bank (otherwise each bank ORs the rows
    // of the lanes on it, below).
    /* verilator lint_off UNUSEDSIGNAL */
    wire [NB*GW-1:0] any_rotated_row;   // unread without ANY_ROTATE
    /* verilator lint_on UNUSEDSIGNAL */
    generate
        if (ANY_ROTATE) begin : g_any_rotate
            wire [NB*GW-1:0] any_lane_row;
            for (k = 0; k < NB; k = k + 1) begin : g_row
                if (k < ANY_LANES) begin : g_lane
                    assign any_lane_row[k*GW +: GW] = a_addr[k*32+LB +: GW];
                end else begin : g_none
                    assign any_lane_row[k*GW +: GW] = {GW{1'b0}};
                end
            end
            yq_rotate #(.N(NB), .W(GW)) u_rot (.in(any_lane_row), .amount(a_addr[LB-1:0]), .out(any_rotated_row));
        end else begin : g_no_rotate
            assign any_rotated_row = {NB*GW{1'b0}};
        end
    endgenerate

    generate
        for (k = 0; k < ROWS; k = k + 1) begin : g_lane_row
            wire [31:0] ar = a_addr[k*32 +: 32] >> LB, br = b_addr[k*32 +: 32] >> LB;
            assign a_ok[k]   = ar < END_ROWS;
            assign b_ok[k]   = br < END_ROWS;
        end
        for (b = 0; b < NB; b = b + 1) begin : g_want
            // The head lanes' row for this bank, and whether the head reads it.
            wire [GW-1:0] any_row;
            wire          any_rd;
            if (ANY_ROTATE) begin : g_any_rotated
                assign any_row = any_rotated_row[b*GW +: GW];
                assign any_rd  = a_set_rd[b];
            end else begin : g_any_or
                reg [GW-1:0] pick;
                reg          on;
                integer q;
                always @(*) begin
                    pick = {GW{1'b0}};
                    on   = 1'b0;
                    for (q = 0; q < ANY_LANES; q = q + 1) begin
                        if (a_ok[q] && a_addr[q*32 +: LB] == b) begin
                            pick = pick | a_addr[q*32+LB +: GW];
                            on   = 1'b1;
                        end
                    end
                end
                assign any_row = pick;
                assign any_rd  = on;
            end
            /* verilator lint_off CMPCONST */
            wire a_next = b[LB-1:0] < a_win[LB-1:0], b_next = b[LB-1:0] < b_win[LB-1:0];
            /* verilator lint_on CMPCONST */
            assign a_rd[b]    = a_any ? any_rd : a_set_rd[b];
            assign b_rd[b]    = b_set_rd[b];
            assign a_row[b]   = a_any ? any_row : a_win_row + {{(GW-1){1'b0}}, a_next};
            assign b_row[b]   = b_win_row + {{(GW-1){1'b0}}, b_next};
            // Consecutive words: bank b holds word (b - base) mod NB of a run,
            // one row further when b lies below the run's first bank.
            /* verilator lint_off CMPCONST */
            wire wr_next = b[LB-1:0] < wr_base[LB-1:0], ld_next = b[LB-1:0] < ld_base[LB-1:0];
            wire st_next = b[LB-1:0] < st_base[LB-1:0];
            /* verilator lint_on CMPCONST */
            assign wr_hit[b]  = wr_en && wr_on_bank[b*(FW+1) + FW] && (wr_next ? wr_in1 : wr_in0);
            assign ld_hit[b]  = ld_en && ld_on_bank[b*(FW+1) + FW] && (ld_next ? ld_in1 : ld_in0);
            assign st_hit[b]  = st_en && st_on_bank[b] && (st_next ? st_in1 : st_in0);
            assign wr_row[b]  = wr_first[GW-1:0] + {{(GW-1){1'b0}}, wr_next};
            assign ld_row[b]  = ld_first[GW-1:0] + {{(GW-1){1'b0}}, ld_next};
            assign st_row[b]  = st_first[GW-1:0] + {{(GW-1){1'b0}}, st_next};
            assign wr_word[b] = wr_on_bank[b*(FW+1) +: FW];
            assign ld_word[b] = ld_on_bank[b*(FW+1) +: FW];
        end
    endgenerate

    // The store unit waits while set B reads one of its banks in its half.
    wire [NB-1:0] st_meets_b;
    generate
        for (b = 0; b < NB; b = b + 1) begin : g_store_wait
            assign st_meets_b[b] = st_hit[b] && b_rd[b] && half_of(st_row[b]) == half_of(b_row[b]);
        end
    endgenerate
    wire st_blocked = |st_meets_b;
    assign st_grant = st_en && !st_blocked;

    // ------------------------------------------------------------------
    // The banks.
    reg  [NB*3-1:0] a_half_q, b_half_q, s_half_q;  // the half each bank was read in by set A, set B, the store (4: none)
    reg  [NB-1:0]   port_clash;               // two users of one port of one bank
    wire [NB*FW-1:0] a_out, b_out, s_out;     // each bank's read data for set A, set B, the store

    generate
        for (b = 0; b < NB; b = b + 1) begin : g_bank
            wire [GW-1:0] ar = a_row[b], wr = wr_row[b], lr = ld_row[b];
            wire [GW-1:0] br = b_row[b], sr = st_row[b];
            wire [2:0]  ah = a_rd[b] ? half_of(ar) : 3'd4;
            wire [2:0]  wh = wr_hit[b] ? half_of(wr) : 3'd4;
            wire [2:0]  lh = ld_hit[b] ? half_of(lr) : 3'd4;
            wire [2:0]  bh = b_rd[b] ? half_of(br) : 3'd4;
            wire [2:0]  sh = (st_hit[b] && st_grant) ? half_of(sr) : 3'd4;
            wire [4*FW-1:0] qa, qb;
            // Two users of one port, or a user in a half it never uses (an
            // engine's write or the store in an input half, a load in an
            // output half: the band program never does, and the halves
            // below do not serve it).
            always @(*) begin
                port_clash[b] = (ah != 3'd4 && (ah == wh || ah == lh)) || (wh != 3'd4 && wh == lh)
                             || wh < 3'd2 || lh == 3'd2 || lh == 3'd3 || sh < 3'd2;
            end
            // Input halves: port A the loader's write or set A, port B set B.
            // Output halves: port A the engines' write or set A, port B set B
            // or the store.
            for (h = 0; h < 4; h = h + 1) begin : g_half
                localparam DEPTH = (h < 2) ? IN_ROWS : OUT_ROWS;
                localparam AW = $clog2(DEPTH);
                localparam IN_HALF = (h < 2);
                wire [FW-1:0] q_a, q_b;
                wire         we   = IN_HALF ? (lh == h) : (wh == h);
                wire         rd_a = (ah == h) && !we;
                /* verilator lint_off UNUSEDSIGNAL */
                wire [GW-1:0] row_a = !we ? local_row(ar) : IN_HALF ? local_row(lr) : local_row(wr);
                wire [GW-1:0] row_b = (IN_HALF || bh == h) ? local_row(br) : local_row(sr);
                /* verilator lint_on UNUSEDSIGNAL */
                wire         rd_b = (bh == h) || (!IN_HALF && sh == h);
                yq_scratch_bank #(.DEPTH(DEPTH), .FW(FW), .AW(AW)) u_bank (
                    .clk(clk), .we_a(we), .re_a(rd_a), .addr_a(row_a[AW-1:0]),
                    .wdata_a(IN_HALF ? ld_word[b] : wr_word[b]), .q_a(q_a),
                    .re_b(rd_b), .addr_b(row_b[AW-1:0]), .q_b(q_b));
                assign qa[h*FW +: FW] = q_a;
                assign qb[h*FW +: FW] = q_b;
            end
            always @(posedge clk) begin
                a_half_q[b*3 +: 3] <= ah;
                b_half_q[b*3 +: 3] <= bh;
                s_half_q[b*3 +: 3] <= sh;
            end
            wire [2:0] ahq = a_half_q[b*3 +: 3], bhq = b_half_q[b*3 +: 3], shq = s_half_q[b*3 +: 3];
            assign a_out[b*FW +: FW] = (ahq < 3'd4) ? qa[ahq[1:0]*FW +: FW] : {FW{1'b0}};
            assign b_out[b*FW +: FW] = (bhq < 3'd4) ? qb[bhq[1:0]*FW +: FW] : {FW{1'b0}};
            assign s_out[b*FW +: FW] = (shq == 3'd2) ? qb[2*FW +: FW] : (shq == 3'd3) ? qb[3*FW +: FW] : {FW{1'b0}};
        end
    endgenerate

    // ------------------------------------------------------------------
    // Read data back to the lanes and the store words: each set's bank words
    // rotated down by its base, lane k taking the word at its offset (a head
    // lane its bank's word, without ANY_ROTATE); the store's words back in
    // run order, word k from bank (base + k) mod NB.
    reg [1:0]         a_step_q, b_step_q;
    reg [LB-1:0]      a_base_q, b_base_q;
    reg [ROWS-1:0]    a_valid_q, b_valid_q;
    /* verilator lint_off UNUSEDSIGNAL */
    reg               a_any_q;              // the head lanes' OR and the check only
    reg [ROWS*LB-1:0] a_bank_q, b_bank_q;   // each lane's bank: likewise
    /* verilator lint_on UNUSEDSIGNAL */
    reg [LB-1:0]      st_off_q;
    reg [PB-1:0]      st_mask_q;
    wire [NB*FW-1:0]  a_from_banks, b_from_banks;
    /* verilator lint_off UNUSEDSIGNAL */
    wire [NB*FW-1:0]  s_from_banks;   // words PB .. NB - 1 unused
    /* verilator lint_on UNUSEDSIGNAL */
    yq_rotate #(.N(NB), .W(FW), .UP(0)) u_a_back (.in(a_out), .amount(a_base_q), .out(a_from_banks));
    yq_rotate #(.N(NB), .W(FW), .UP(0)) u_b_back (.in(b_out), .amount(b_base_q), .out(b_from_banks));
    yq_rotate #(.N(NB), .W(FW), .UP(0)) u_st_back (.in(s_out), .amount(st_off_q), .out(s_from_banks));
    integer ln;
    always @(posedge clk) begin
        for (ln = 0; ln < ROWS; ln = ln + 1) begin
            a_bank_q[ln*LB +: LB] <= a_addr[ln*32 +: LB];
            b_bank_q[ln*LB +: LB] <= b_addr[ln*32 +: LB];
        end
        a_step_q  <= a_set_step;
        b_step_q  <= b_step;
        a_base_q  <= a_base;
        b_base_q  <= b_base;
        a_any_q   <= a_any;
        a_valid_q <= a_ok;
        b_valid_q <= b_ok;
        st_off_q  <= st_base[LB-1:0];
        st_mask_q <= st_grant ? st_mask : {PB{1'b0}};
    end
    function automatic [FW-1:0] word_at(input [NB*FW-1:0] words, input [1:0] step, input integer lane);
        word_at = words[lane_offset(step, lane)*FW +: FW];
    endfunction
    generate
        for (k = 0; k < ROWS; k = k + 1) begin : g_lane_data
            wire [FW-1:0] a_word;
            wire [FW-1:0] b_word = word_at(b_from_banks, b_step_q, k);
            if (!ANY_ROTATE && k < ANY_LANES) begin : g_any_lane
                wire [LB-1:0] ab = a_bank_q[k*LB +: LB];
                assign a_word = a_any_q ? a_out[ab*FW +: FW] : word_at(a_from_banks, a_step_q, k);
            end else begin : g_set_lane
                assign a_word = word_at(a_from_banks, a_step_q, k);
            end
            assign a_data[k*FW +: FW] = a_valid_q[k] ? a_word : {FW{1'b0}};
            assign b_data[k*FW +: FW] = b_valid_q[k] ? b_word : {FW{1'b0}};
        end
        for (k = 0; k < PB; k = k + 1) begin : g_store_word
            assign st_data[k*FW +: FW] = st_mask_q[k] ? s_from_banks[k*FW +: FW] : {FW{1'b0}};
        end
    endgenerate

    // ------------------------------------------------------------------
    // The check (CHECK), a cycle after the reads: a lane set asked a bank
    // for two words when a lane is not on its set's step (its bank is not
    // the one its offset names; a head lane without ANY_ROTATE has no
    // step) or its row is not the row its bank read (the window's, or the
    // head's: for the OR, which differs from one of two different rows); a
    // port of a bank had two users.
    generate
        if (CHECK != 0) begin : g_check
            reg [ROWS*GW-1:0] a_lrow_q, b_lrow_q;
            reg [NB*GW-1:0]   a_row_q, b_row_q;
            reg               port_clash_q;
            wire [ROWS-1:0]   a_wrong, b_wrong;
            integer n;
            always @(posedge clk) begin
                for (n = 0; n < ROWS; n = n + 1) begin
                    a_lrow_q[n*GW +: GW] <= a_addr[n*32+LB +: GW];
                    b_lrow_q[n*GW +: GW] <= b_addr[n*32+LB +: GW];
                end
                for (n = 0; n < NB; n = n + 1) begin
                    a_row_q[n*GW +: GW] <= a_row[n];
                    b_row_q[n*GW +: GW] <= b_row[n];
                end
                port_clash_q <= |port_clash;
            end
            for (k = 0; k < ROWS; k = k + 1) begin : g_lane
                wire [LB-1:0] ab = a_bank_q[k*LB +: LB], bb = b_bank_q[k*LB +: LB];
                wire a_stepped = (!ANY_ROTATE && a_any_q) || ab == a_base_q + lane_offset(a_step_q, k);
                wire b_stepped = bb == b_base_q + lane_offset(b_step_q, k);
                assign a_wrong[k] = a_valid_q[k] && (!a_stepped || a_row_q[ab*GW +: GW] != a_lrow_q[k*GW +: GW]);
                assign b_wrong[k] = b_valid_q[k] && (!b_stepped || b_row_q[bb*GW +: GW] != b_lrow_q[k*GW +: GW]);
            end
            assign conflict = (|a_wrong) || (|b_wrong) || port_clash_q;
        end else begin : g_no_check
            assign conflict = 1'b0;
            wire unused_check = ^port_clash;
        end
    endgenerate
endmodule
