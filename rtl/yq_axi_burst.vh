// The AXI4 burst rule of yq_axi_reader and yq_axi_writer, included inside
// each module after its localparams SIZE (log2 of the beat bytes) and
// MAX_BURST (256): the burst starting at page offset a (an address's bits
// [11:0]) with `left` beats to go has at most MAX_BURST beats and ends at the
// 4 KB boundary at the latest.
function [31:0] burst_beats(input [11:0] a, input [31:0] left);
    reg [12:0] page_bytes;
    reg [31:0] page_beats, limit;
    begin
        page_bytes  = 13'd4096 - {1'b0, a};
        page_beats  = {19'd0, page_bytes} >> SIZE;
        limit       = (left < MAX_BURST) ? left : MAX_BURST;
        burst_beats = (limit < page_beats) ? limit : page_beats;
    end
endfunction
