// Type-level assertions for the fixtures: `Assert<Equal<A, B>>` compiles only
// when A and B are the same type (not merely assignable, and never `any`).
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
export type Assert<T extends true> = T;
