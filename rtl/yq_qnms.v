// yq_qnms: q_NMS, the class-aware greedy non-maximum suppression of
// docs/ARITHMETIC.md section 8, exactly int_non_max_suppression of
// compiler/detect/int_nms.cpp:
//   1. candidates with score > score_threshold are kept (others dropped as
//      they arrive);
//   2. ranked by score descending, then anchor, class, x1, y1, x2, y2
//      ascending (the reference's strict total order, ranks_before);
//   3. walked in that order: stop once max_det boxes are kept; a candidate
//      is suppressed when a kept box of its class has I * iou_den >
//      iou_num * U (I the intersection, U = area + area - I, sides
//      max(0, hi - lo)); otherwise it is kept.
// The kept boxes, in that order, go to the result memory in the layout of
// the DRAM detection list (docs/ARTIFACTS.md section 3.1, yq_format.vh
// YQ_DET_*): word 0 holds the count in its low 32 bits, words 1 .. count one
// record each.
//
// Control: while loading, in_valid presents one candidate per cycle (idle
// cycles allowed, any order); in_end (one cycle, with or after the last
// candidate; a frame may have none) starts the suppression. score_threshold,
// iou_num, iou_den and max_det are held from the first candidate until done.
// done pulses for one cycle, after the count's write, with overflow: more
// than MAX_CAND candidates passed the threshold, those beyond MAX_CAND were
// dropped and the list is not q_NMS's. A max_det above MAX_DET acts as
// MAX_DET. Then the next frame may load. rst (synchronous, active high)
// returns to loading an empty frame.
//
// Schedule: for each walked candidate, a scan of the n stored candidates for
// the best ranked one still alive (one read per cycle, compared the next),
// its comparison with the kept boxes (one read per cycle, three pipeline
// stages) and its record's write when kept: n + kept + 6 cycles; the walk
// stops when max_det are kept or none is left, so a frame takes at most
// about n * (n + max_det + 6) cycles after in_end. Candidates and kept
// boxes live in memories with one write and one synchronous read port
// (block RAM: MAX_CAND words of 4 coordinates, score, class and anchor;
// MAX_DET words of 4 coordinates, class and area); only the alive bits are
// registers.
//
// Parameters: MAX_CAND (candidate capacity, >= 2), MAX_DET (kept boxes capacity, >= 2),
// COORD_W (signed coordinate bits the arithmetic is built for; inputs are
// COORD_W bits, records sign-extend them), IOU_W (bits of iou_num and
// iou_den). Field widths and positions from yq_format.vh.
module yq_qnms (clk, rst, in_valid, in_end, in_x1, in_y1, in_x2, in_y2, in_score, in_class, in_anchor,
                score_threshold, iou_num, iou_den, max_det, res_we, res_addr, res_data, done, overflow);
    /* verilator lint_off UNUSEDPARAM */
    `include "yq_format.vh"
    /* verilator lint_on UNUSEDPARAM */
    parameter MAX_CAND = 64;
    parameter MAX_DET  = 16;
    parameter COORD_W  = YQ_DET_X1_WIDTH;
    parameter IOU_W    = 10;

    localparam SCORE_W = YQ_DET_SCORE_WIDTH;
    localparam CLASS_W = YQ_DET_CLASS_ID_WIDTH;
    localparam ANCHOR_W = YQ_DET_ANCHOR_WIDTH;
    localparam REC_W   = YQ_DET_WORD_BITS;
    localparam CAND_W  = $clog2(MAX_CAND + 1);         // candidate count 0 .. MAX_CAND
    localparam DET_W   = $clog2(MAX_DET + 1);          // kept count 0 .. MAX_DET
    localparam CI_W    = $clog2(MAX_CAND);             // candidate index (MAX_CAND >= 2)
    localparam KI_W    = $clog2(MAX_DET);              // kept box index (MAX_DET >= 2)
    localparam ADDR_W  = $clog2(MAX_DET + 1);          // result words 0 .. MAX_DET
    localparam SIDE_W  = COORD_W + 1;                  // hi - lo of two signed coordinates
    localparam AREA_W  = 2 * COORD_W;                  // a side is below 2^COORD_W
    localparam PROD_W  = AREA_W + 1 + IOU_W;           // num * U, U < 2^(AREA_W+1)

    input  wire                      clk;
    input  wire                      rst;
    input  wire                      in_valid;
    input  wire                      in_end;
    input  wire signed [COORD_W-1:0] in_x1;
    input  wire signed [COORD_W-1:0] in_y1;
    input  wire signed [COORD_W-1:0] in_x2;
    input  wire signed [COORD_W-1:0] in_y2;
    input  wire        [SCORE_W-1:0] in_score;
    input  wire        [CLASS_W-1:0] in_class;
    input  wire       [ANCHOR_W-1:0] in_anchor;
    input  wire        [SCORE_W-1:0] score_threshold;
    input  wire        [IOU_W-1:0]   iou_num;
    input  wire        [IOU_W-1:0]   iou_den;
    input  wire        [DET_W-1:0]   max_det;
    output reg                       res_we;
    output reg         [ADDR_W-1:0]  res_addr;
    output reg         [REC_W-1:0]   res_data;
    output reg                       done;
    output reg                       overflow;

    // Candidates (alive until walked) and kept boxes, each in a memory of
    // one write port and one synchronous read port (block RAM); a
    // candidate's and a kept box's fields packed into one word.
    localparam C_W = 4 * COORD_W + SCORE_W + CLASS_W + ANCHOR_W;
    localparam K_W = 4 * COORD_W + CLASS_W + AREA_W;
    reg        [C_W-1:0]      c_mem [0:MAX_CAND-1];
    reg        [MAX_CAND-1:0] alive;
    reg        [K_W-1:0]      k_mem [0:MAX_DET-1];

    reg [CAND_W-1:0] count;       // stored candidates
    reg [DET_W-1:0]  kept;        // kept boxes
    reg [DET_W-1:0]  limit;       // min(max_det, MAX_DET)

    localparam [2:0] S_LOAD = 3'd0, S_SCAN = 3'd1, S_CHECK = 3'd2, S_WRITE = 3'd3, S_COUNT = 3'd4;
    reg [2:0] state;
    reg       overflowed;

    // ---- the scan for the best ranked alive candidate: candidate `scan`
    // is read in one cycle and compared with the best so far (held in
    // registers) in the next.
    reg  [CAND_W-1:0] scan;        // candidate read this cycle
    reg               scan_v;      // c_q holds candidate scan_i
    reg  [CI_W-1:0]   scan_i;
    reg  [C_W-1:0]    c_q;
    reg               have_best;
    reg  [CI_W-1:0]   best;
    reg  [C_W-1:0]    b_rec;       // the best candidate's word
    wire [CI_W-1:0]   scan_index = scan[CI_W-1:0];
    wire [CI_W-1:0]   load_index = count[CI_W-1:0];
    wire [KI_W-1:0]   kept_index = kept[KI_W-1:0];

    // A candidate word's fields.
    function signed [COORD_W-1:0] coord(input [C_W-1:0] w, input integer k);
        coord = w[k*COORD_W +: COORD_W];
    endfunction
    wire signed [COORD_W-1:0] q_x1 = coord(c_q, 0), q_y1 = coord(c_q, 1), q_x2 = coord(c_q, 2), q_y2 = coord(c_q, 3);
    wire signed [COORD_W-1:0] b_x1 = coord(b_rec, 0), b_y1 = coord(b_rec, 1), b_x2 = coord(b_rec, 2), b_y2 = coord(b_rec, 3);
    wire [SCORE_W-1:0]  q_score  = c_q[4*COORD_W +: SCORE_W],   b_score  = b_rec[4*COORD_W +: SCORE_W];
    wire [CLASS_W-1:0]  q_class  = c_q[4*COORD_W+SCORE_W +: CLASS_W], b_class = b_rec[4*COORD_W+SCORE_W +: CLASS_W];
    wire [ANCHOR_W-1:0] q_anchor = c_q[4*COORD_W+SCORE_W+CLASS_W +: ANCHOR_W];
    wire [ANCHOR_W-1:0] b_anchor = b_rec[4*COORD_W+SCORE_W+CLASS_W +: ANCHOR_W];

    // ranks_before(scanned, best): score descending, then anchor, class, x1, y1, x2, y2 ascending.
    wire ranks_before =
        (q_score != b_score) ? (q_score > b_score) :
        (q_anchor != b_anchor) ? (q_anchor < b_anchor) :
        (q_class != b_class) ? (q_class < b_class) :
        (q_x1 != b_x1) ? (q_x1 < b_x1) :
        (q_y1 != b_y1) ? (q_y1 < b_y1) :
        (q_x2 != b_x2) ? (q_x2 < b_x2) :
        (q_y2 < b_y2);

    // ---- the suppression test of the selected candidate against kept box
    // `probe` (read in one cycle, I and U in the next, the comparison in the
    // one after)
    function [COORD_W-1:0] extent;   // max(0, hi - lo), below 2^COORD_W
        input signed [COORD_W-1:0] lo;
        input signed [COORD_W-1:0] hi;
        reg   signed [SIDE_W-1:0]  d;
        begin
            d = $signed({hi[COORD_W-1], hi}) - $signed({lo[COORD_W-1], lo});
            extent = d[SIDE_W-1] ? {COORD_W{1'b0}} : d[COORD_W-1:0];
        end
    endfunction

    // The selected candidate: the best one's word once chosen.
    wire signed [COORD_W-1:0] s_x1 = b_x1, s_y1 = b_y1, s_x2 = b_x2, s_y2 = b_y2;
    wire       [CLASS_W-1:0]  s_class = b_class;
    wire       [SCORE_W-1:0]  s_score = b_score;
    wire       [ANCHOR_W-1:0] s_anchor = b_anchor;
    wire       [COORD_W-1:0] s_w = extent(s_x1, s_x2);
    wire       [COORD_W-1:0] s_h = extent(s_y1, s_y2);
    wire       [AREA_W-1:0]  selected_area = {{COORD_W{1'b0}}, s_w} * {{COORD_W{1'b0}}, s_h};

    reg  [DET_W-1:0] probe;        // kept box read this cycle
    reg              p0_valid;     // k_q holds a kept box
    reg  [K_W-1:0]   k_q;
    wire signed [COORD_W-1:0] k_x1 = k_q[0 +: COORD_W], k_y1 = k_q[COORD_W +: COORD_W];
    wire signed [COORD_W-1:0] k_x2 = k_q[2*COORD_W +: COORD_W], k_y2 = k_q[3*COORD_W +: COORD_W];
    wire       [CLASS_W-1:0]  k_class = k_q[4*COORD_W +: CLASS_W];
    wire       [AREA_W-1:0]   k_area = k_q[4*COORD_W+CLASS_W +: AREA_W];
    wire [COORD_W-1:0] i_w = extent(s_x1 > k_x1 ? s_x1 : k_x1, s_x2 < k_x2 ? s_x2 : k_x2);
    wire [COORD_W-1:0] i_h = extent(s_y1 > k_y1 ? s_y1 : k_y1, s_y2 < k_y2 ? s_y2 : k_y2);
    wire [AREA_W-1:0] inter = {{COORD_W{1'b0}}, i_w} * {{COORD_W{1'b0}}, i_h};
    reg               p1_valid;
    reg               p1_same;
    reg  [AREA_W-1:0] p1_inter;
    reg  [AREA_W:0]   p1_union;
    wire [PROD_W-1:0] lhs = {{(PROD_W-AREA_W){1'b0}}, p1_inter} * {{(PROD_W-IOU_W){1'b0}}, iou_den};
    wire [PROD_W-1:0] rhs = {{(PROD_W-AREA_W-1){1'b0}}, p1_union} * {{(PROD_W-IOU_W){1'b0}}, iou_num};
    reg               suppressed;
    reg  [AREA_W-1:0] s_area;

    // The memories' ports.
    always @(posedge clk) begin
        if (state == S_LOAD && in_valid && in_score > score_threshold && count != MAX_CAND[CAND_W-1:0])
            c_mem[load_index] <= {in_anchor, in_class, in_score, in_y2, in_x2, in_y1, in_x1};
        c_q <= c_mem[scan_index];
        if (state == S_WRITE && !suppressed)
            k_mem[kept_index] <= {s_area, s_class, s_y2, s_x2, s_y1, s_x1};
        k_q <= k_mem[probe[KI_W-1:0]];
    end

    // The selected candidate as a detection record.
    wire [REC_W-1:0] record =
        ({{(REC_W-YQ_DET_X1_WIDTH){1'b0}}, {{(YQ_DET_X1_WIDTH-COORD_W){s_x1[COORD_W-1]}}, s_x1}} << YQ_DET_X1_LSB) |
        ({{(REC_W-YQ_DET_Y1_WIDTH){1'b0}}, {{(YQ_DET_Y1_WIDTH-COORD_W){s_y1[COORD_W-1]}}, s_y1}} << YQ_DET_Y1_LSB) |
        ({{(REC_W-YQ_DET_X2_WIDTH){1'b0}}, {{(YQ_DET_X2_WIDTH-COORD_W){s_x2[COORD_W-1]}}, s_x2}} << YQ_DET_X2_LSB) |
        ({{(REC_W-YQ_DET_Y2_WIDTH){1'b0}}, {{(YQ_DET_Y2_WIDTH-COORD_W){s_y2[COORD_W-1]}}, s_y2}} << YQ_DET_Y2_LSB) |
        ({{(REC_W-SCORE_W){1'b0}}, s_score} << YQ_DET_SCORE_LSB) |
        ({{(REC_W-CLASS_W){1'b0}}, s_class} << YQ_DET_CLASS_ID_LSB) |
        ({{(REC_W-ANCHOR_W){1'b0}}, s_anchor} << YQ_DET_ANCHOR_LSB);

    always @(posedge clk) begin
        res_we <= 1'b0;
        done   <= 1'b0;
        if (rst) begin
            state    <= S_LOAD;
            count    <= {CAND_W{1'b0}};
            alive    <= {MAX_CAND{1'b0}};
            overflow   <= 1'b0;
            overflowed <= 1'b0;
            p1_valid <= 1'b0;
        end else begin
            case (state)
                S_LOAD: begin
                    if (in_valid && in_score > score_threshold) begin
                        if (count == MAX_CAND[CAND_W-1:0]) begin
                            overflowed <= 1'b1;
                        end else begin
                            alive[load_index] <= 1'b1;
                            count             <= count + {{(CAND_W-1){1'b0}}, 1'b1};
                        end
                    end
                    if (in_end) begin
                        kept      <= {DET_W{1'b0}};
                        limit     <= (max_det > MAX_DET[DET_W-1:0]) ? MAX_DET[DET_W-1:0] : max_det;
                        scan      <= {CAND_W{1'b0}};
                        scan_v    <= 1'b0;
                        have_best <= 1'b0;
                        state     <= S_SCAN;
                    end
                end

                S_SCAN: begin
                    scan_v <= (scan != count);
                    scan_i <= scan_index;
                    if (scan != count) scan <= scan + {{(CAND_W-1){1'b0}}, 1'b1};
                    if (scan_v && alive[scan_i] && (!have_best || ranks_before)) begin
                        best      <= scan_i;
                        b_rec     <= c_q;
                        have_best <= 1'b1;
                    end
                    if (scan == count && !scan_v) begin
                        if (!have_best || kept == limit) begin
                            state <= S_COUNT;
                        end else begin
                            alive[best] <= 1'b0;
                            probe       <= {DET_W{1'b0}};
                            p0_valid    <= 1'b0;
                            p1_valid    <= 1'b0;
                            suppressed  <= 1'b0;
                            state       <= S_CHECK;
                        end
                    end
                end

                S_CHECK: begin   // kept boxes 0 .. kept-1 through the three-stage test
                    p0_valid <= (probe != kept);
                    if (probe != kept) probe <= probe + {{(DET_W-1){1'b0}}, 1'b1};
                    p1_valid <= p0_valid;
                    if (p0_valid) begin
                        p1_same  <= (k_class == s_class);
                        p1_inter <= inter;
                        p1_union <= {1'b0, selected_area} + {1'b0, k_area} - {1'b0, inter};
                    end
                    if (p1_valid && p1_same && lhs > rhs) suppressed <= 1'b1;
                    if (probe == kept && !p0_valid && !p1_valid) begin
                        s_area <= selected_area;
                        state  <= S_WRITE;
                    end
                end

                S_WRITE: begin
                    if (!suppressed) begin
                        kept          <= kept + {{(DET_W-1){1'b0}}, 1'b1};
                        res_we        <= 1'b1;
                        res_addr      <= kept[ADDR_W-1:0] + {{(ADDR_W-1){1'b0}}, 1'b1};
                        res_data      <= record;
                    end
                    scan      <= {CAND_W{1'b0}};
                    scan_v    <= 1'b0;
                    have_best <= 1'b0;
                    state     <= S_SCAN;
                end

                default: begin   // S_COUNT
                    res_we   <= 1'b1;
                    res_addr <= {ADDR_W{1'b0}};
                    res_data <= {{(REC_W-DET_W){1'b0}}, kept};
                    done     <= 1'b1;
                    overflow <= overflowed;
                    overflowed <= 1'b0;
                    count    <= {CAND_W{1'b0}};
                    alive    <= {MAX_CAND{1'b0}};
                    state    <= S_LOAD;
                end
            endcase
        end
    end
endmodule
