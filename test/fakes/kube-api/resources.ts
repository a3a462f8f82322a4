// Store keys of the two resources the controllers act on.

export const JOBS = 'batch/jobs';
export const PODS = '/pods';
