/** A database timestamp as the ISO 8601 text every response carries; null stays null. */
export const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());
