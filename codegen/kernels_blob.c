/* The kernel bitcode, pulled in byte for byte by the assembler.
 * KERNELS_<ARCH>_BC is the absolute path of build/kernels-<arch>.bc, defined
 * by CMakeLists.txt.  x86_64 is always built; aarch64 only when the aarch64
 * libc headers were found, otherwise its blob is empty and cg_link_kernels
 * reports that this build cannot target aarch64.  The sizes are computed by
 * the assembler so that C never compares addresses of distinct objects. */
__asm__(".section .rodata\n"
        ".balign 16\n"
        ".globl cg_kernels_x86_64_bc\n"
        "cg_kernels_x86_64_bc:\n"
        ".incbin \"" KERNELS_X86_64_BC "\"\n"
        "cg_kernels_x86_64_bc_end:\n"
        ".byte 0\n"
        ".balign 16\n"
        ".globl cg_kernels_aarch64_bc\n"
        "cg_kernels_aarch64_bc:\n"
#ifdef KERNELS_AARCH64_BC
        ".incbin \"" KERNELS_AARCH64_BC "\"\n"
#endif
        "cg_kernels_aarch64_bc_end:\n"
        ".byte 0\n"
        ".balign 8\n"
        ".globl cg_kernels_x86_64_bc_size\n"
        "cg_kernels_x86_64_bc_size:\n"
        ".quad cg_kernels_x86_64_bc_end - cg_kernels_x86_64_bc\n"
        ".globl cg_kernels_aarch64_bc_size\n"
        "cg_kernels_aarch64_bc_size:\n"
        ".quad cg_kernels_aarch64_bc_end - cg_kernels_aarch64_bc\n"
        ".previous\n");
