// Bounds on what a launch file may ask of the reader, so hostile or broken input ends in a
// positioned error instead of a stack overflow, a huge allocation or a hang.

/** Nesting of entities (groups, nested params, YAML collections) in one file. */
export const MAX_ENTITY_DEPTH = 200;
/** Nesting of substitutions inside one another (`$(var $(var ...))`). */
export const MAX_SUBSTITUTION_DEPTH = 64;
/** Nesting and length of one `$(eval)` expression. */
export const MAX_EVAL_DEPTH = 200;
export const MAX_EVAL_TOKENS = 10_000;
/** Longest string one value may become (substitution results, eval strings). */
export const MAX_VALUE_LENGTH = 1 << 20;
/** Largest launch or parameter file read. */
export const MAX_FILE_BYTES = 16 << 20;
/** Includes nested in one another. */
export const MAX_INCLUDE_DEPTH = 64;
