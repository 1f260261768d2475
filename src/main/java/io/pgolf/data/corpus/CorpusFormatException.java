package io.pgolf.data.corpus;

import java.nio.file.Path;

/** A corpus file that cannot be read as JSONL documents; the message names the file and line. */
public final class CorpusFormatException extends RuntimeException {
    public CorpusFormatException(Path file, long line, String problem) {
        super(file + ":" + line + ": " + problem);
    }

    public CorpusFormatException(Path file, long line, String problem, Throwable cause) {
        super(file + ":" + line + ": " + problem, cause);
    }
}
