// yq_sequencer: runs a whole layer program (docs/ARTIFACTS.md section 4) on
// the two engines. On start it walks the descriptors in node order from
// node 0: it fetches program[node] into desc, skips the input node, reports
// a view (view = 1: its words were written by its inputs' producers) without
// running anything, and otherwise pulses conv_start (op = conv) or
// elt_start (any other op) with desc valid and waits for engine_done. Every
// node but the input then ends with a layer_done pulse (node holds its
// index). The first engine error stops the program: done and error pulse
// together and node names the failing layer.
//
// With pause high the sequencer waits after each layer_done until resume
// pulses, so a bench can read every layer's output before later layers
// reuse its memory; with pause low it runs the program without stopping.
//
// Program ROM port: synchronous read, one cycle (prog_data holds
// program[prog_addr] one cycle after prog_addr). num_nodes is the program's
// length (yq_params.vh YQ_NUM_LAYERS). rst (synchronous, active high)
// returns to idle.
//
// The descriptor layout, the node index width (that of the descriptor's
// node field) and the op codes come from yq_format.vh.
module yq_sequencer (clk, rst, start, num_nodes, pause, resume, busy, done, error, node, layer_done, prog_addr,
                     prog_data, desc, conv_start, elt_start, engine_done, engine_error);
    /* verilator lint_off UNUSEDPARAM */
    `include "yq_format.vh"
    /* verilator lint_on UNUSEDPARAM */
    localparam NODE_W = YQ_PROG_NODE_WIDTH;
    localparam DESC_W = YQ_PROG_WORD_BITS;

    input  wire              clk;
    input  wire              rst;
    input  wire              start;
    input  wire [NODE_W-1:0] num_nodes;
    input  wire              pause;
    input  wire              resume;
    output wire              busy;
    output reg               done;
    output reg               error;
    output reg  [NODE_W-1:0] node;
    output reg               layer_done;

    output reg  [NODE_W-1:0] prog_addr;
    input  wire [DESC_W-1:0] prog_data;

    output reg  [DESC_W-1:0] desc;
    output reg               conv_start;
    output reg               elt_start;
    input  wire              engine_done;
    input  wire              engine_error;

    wire [31:0] prog_op = {{(32-YQ_PROG_OP_WIDTH){1'b0}}, prog_data[YQ_PROG_OP_LSB +: YQ_PROG_OP_WIDTH]};
    wire prog_view = (prog_data[YQ_PROG_VIEW_LSB +: YQ_PROG_VIEW_WIDTH] != 0);
    localparam [2:0] S_IDLE = 3'd0, S_ADDR = 3'd1, S_FETCH = 3'd2, S_DISPATCH = 3'd3, S_RUN = 3'd4,
                     S_HOLD = 3'd5, S_NEXT = 3'd6;
    reg [2:0] state;
    assign busy = (state != S_IDLE);

    always @(posedge clk) begin
        done       <= 1'b0;
        layer_done <= 1'b0;
        conv_start <= 1'b0;
        elt_start  <= 1'b0;
        if (rst) begin
            state <= S_IDLE;
            error <= 1'b0;
        end else begin
            case (state)
                S_IDLE: if (start) begin
                    node  <= {NODE_W{1'b0}};
                    error <= 1'b0;
                    state <= (num_nodes == {NODE_W{1'b0}}) ? S_NEXT : S_ADDR;
                end

                S_ADDR: begin   // address out this cycle, data in the next
                    prog_addr <= node;
                    state     <= S_FETCH;
                end

                S_FETCH: state <= S_DISPATCH;

                S_DISPATCH: begin
                    desc <= prog_data;
                    if (prog_op == YQ_OP_INPUT) begin
                        state <= S_NEXT;
                    end else if (prog_view) begin
                        layer_done <= 1'b1;
                        state      <= S_HOLD;
                    end else begin
                        conv_start <= (prog_op == YQ_OP_CONV);
                        elt_start  <= (prog_op != YQ_OP_CONV);
                        state      <= S_RUN;
                    end
                end

                S_RUN: if (engine_done) begin
                    if (engine_error) begin
                        error <= 1'b1;
                        done  <= 1'b1;
                        state <= S_IDLE;
                    end else begin
                        layer_done <= 1'b1;
                        state      <= S_HOLD;
                    end
                end

                S_HOLD: if (!pause || resume) state <= S_NEXT;

                S_NEXT: begin
                    if (node + 1'b1 >= num_nodes) begin
                        done  <= 1'b1;
                        state <= S_IDLE;
                    end else begin
                        node  <= node + 1'b1;
                        state <= S_ADDR;
                    end
                end

                default: state <= S_IDLE;
            endcase
        end
    end
endmodule
