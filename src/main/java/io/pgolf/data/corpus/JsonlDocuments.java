package io.pgolf.data.corpus;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import org.tukaani.xz.XZInputStream;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.NoSuchElementException;

/**
 * Streams the documents of a JSONL corpus ({@code .jsonl} or {@code .jsonl.xz}): one JSON object per line whose
 * {@code "text"} string is the document, read as the challenge's exporter reads it ({@code json.loads(line)["text"]}).
 * Any line that is not such an object stops the stream with a {@link CorpusFormatException} naming the file and line.
 */
public final class JsonlDocuments implements Iterator<Document>, Closeable {
    private static final JsonFactory JSON = new JsonFactory();

    private final Path file;
    private final CountingInputStream raw;
    private final long fileBytes;
    private final BufferedReader reader;
    private long lineNumber;
    private long nextIndex;
    private Document next;

    private JsonlDocuments(Path file) throws IOException {
        this.file = file;
        this.fileBytes = Files.size(file);
        this.raw = new CountingInputStream(Files.newInputStream(file));
        InputStream decoded = file.getFileName().toString().endsWith(".xz")
                ? new XZInputStream(raw.buffered())
                : raw.buffered();
        this.reader = new BufferedReader(new InputStreamReader(decoded, StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)), 1 << 20);
    }

    public static JsonlDocuments open(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new CorpusFormatException(file, 0, "no such file");
        }
        try {
            return new JsonlDocuments(file);
        } catch (IOException e) {
            throw new CorpusFormatException(file, 0, "cannot open: " + e.getMessage(), e);
        }
    }

    /** Fraction of the file consumed so far, from the position in the (possibly compressed) file. */
    public double fractionRead() {
        return fileBytes == 0 ? 1.0 : Math.min(1.0, (double) raw.count() / fileBytes);
    }

    @Override
    public boolean hasNext() {
        if (next == null) {
            next = readNext();
        }
        return next != null;
    }

    @Override
    public Document next() {
        if (!hasNext()) {
            throw new NoSuchElementException();
        }
        Document d = next;
        next = null;
        return d;
    }

    private Document readNext() {
        String line;
        try {
            line = reader.readLine();
        } catch (CharacterCodingException e) {
            throw new CorpusFormatException(file, lineNumber + 1, "not valid UTF-8", e);
        } catch (IOException e) {
            throw new CorpusFormatException(file, lineNumber + 1, "read failed: " + e.getMessage(), e);
        }
        if (line == null) {
            return null;
        }
        lineNumber++;
        return new Document(nextIndex++, lineNumber, textOf(line));
    }

    private String textOf(String line) {
        String text = null;
        try (JsonParser p = JSON.createParser(line)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new CorpusFormatException(file, lineNumber, "expected a JSON object with a \"text\" field");
            }
            JsonToken t;
            while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken value = p.nextToken();
                if (name.equals("text")) {
                    if (value != JsonToken.VALUE_STRING) {
                        throw new CorpusFormatException(file, lineNumber, "field \"text\" is " + value + ", expected a string");
                    }
                    text = p.getText();
                } else {
                    p.skipChildren();
                }
            }
            if (t != JsonToken.END_OBJECT || p.nextToken() != null) {
                throw new CorpusFormatException(file, lineNumber, "not a single JSON object");
            }
        } catch (JsonProcessingException e) {
            throw new CorpusFormatException(file, lineNumber, "not JSON: " + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (text == null) {
            throw new CorpusFormatException(file, lineNumber, "document has no \"text\" field");
        }
        return text;
    }

    @Override
    public void close() {
        try {
            reader.close();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Counts the bytes read from the file itself, for progress through compressed input. */
    private static final class CountingInputStream extends FilterInputStream {
        private volatile long count;

        CountingInputStream(InputStream in) {
            super(in);
        }

        long count() {
            return count;
        }

        InputStream buffered() {
            return new java.io.BufferedInputStream(this, 1 << 16);
        }

        @Override
        public int read() throws IOException {
            int b = super.read();
            if (b >= 0) {
                count++;
            }
            return b;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            int n = super.read(b, off, len);
            if (n > 0) {
                count += n;
            }
            return n;
        }
    }
}
