# Read after a Verilator-generated V<top>.mk (make -f V<top>.mk -f this):
# compiles the Verilator runtime objects (verilated.cpp, ...) with the flags
# of verilated.mk and archives them, so the benches link it instead of each
# compiling its own copy.
yq_runtime: $(VK_GLOBAL_OBJS)
	ar rcs libverilated_rt.a $^
