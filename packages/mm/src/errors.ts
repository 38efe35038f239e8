/** An errno the kernel would return (or SIGSEGV/SIGBUS for a fault the process would die of). */
export type Errno =
  | 'EINVAL'
  | 'ENOMEM'
  | 'EFAULT'
  | 'EPERM'
  | 'EACCES'
  | 'EAGAIN'
  | 'EEXIST'
  | 'ENOSPC'
  | 'SIGSEGV'
  | 'SIGBUS';

/** A system call or fault that the kernel refuses: the model state is unchanged. */
export class KernelError extends Error {
  constructor(
    readonly errno: Errno,
    message: string,
  ) {
    super(`${errno}: ${message}`);
    this.name = 'KernelError';
  }
}
