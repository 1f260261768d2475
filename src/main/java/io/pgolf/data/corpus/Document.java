package io.pgolf.data.corpus;

/** One document of a JSONL corpus: its 0-based index, the 1-based line it came from, and its text. */
public record Document(long index, long line, String text) {
}
