/* The kernel bitcode, pulled in byte for byte by the assembler.
 * KERNELS_X86_64_BC is the absolute path of build/kernels-x86_64.bc. */
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl cg_kernels_x86_64_bc\n"
        "cg_kernels_x86_64_bc:\n"
        ".incbin \"" KERNELS_X86_64_BC "\"\n"
        ".globl cg_kernels_x86_64_bc_end\n"
        "cg_kernels_x86_64_bc_end:\n"
        ".byte 0\n"
        ".previous\n");
