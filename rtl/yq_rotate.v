// yq_rotate: a barrel rotator of N words of W bits (N a power of two),
// combinational: word j of `out` is word (j - amount) mod N of `in` (UP = 1:
// a run of words starting at word 0 moves to start at word `amount`), or
// word (j + amount) mod N (UP = 0: the run starting at word `amount` moves
// to word 0). log2(N) stages of 2:1 multiplexers, N x W each, where a word
// multiplexer per output word would take an N:1 multiplexer per bit: the
// scratch memory (rtl/yq_scratch.v) puts consecutive words on its banks
// and back with these.
module yq_rotate #(
    parameter N  = 8,
    parameter W  = 8,
    parameter UP = 1
) (
    input  wire [N*W-1:0]         in,
    input  wire [$clog2(N)-1:0]   amount,
    output wire [N*W-1:0]         out
);
    localparam LN = $clog2(N);
    initial begin
        if (N < 2 || (1 << LN) != N)
            $fatal(1, "yq_rotate: N %0d, not a power of two of at least 2", N);
    end

    // After step s the words are rotated by amount's low s + 1 bits.
    reg [N*W-1:0] rotated;
    integer s;
    always @(*) begin
        rotated = in;
        for (s = 0; s < LN; s = s + 1)
            if (amount[s])
                rotated = UP ? (rotated << ((1 << s) * W)) | (rotated >> ((N - (1 << s)) * W))
                             : (rotated >> ((1 << s) * W)) | (rotated << ((N - (1 << s)) * W));
    end
    assign out = rotated;
endmodule
