import CParleyKernels

/// The instruction set the quantized kernels run with ("avx512-vnni", "avx2", "scalar"); PARLEY_ISA overrides.
public func activeKernelISA() -> String {
    String(cString: pk_isa_name(pk_active_isa()))
}
