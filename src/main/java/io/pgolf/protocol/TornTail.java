package io.pgolf.protocol;

/**
 * The unfinished last record of a journal whose writer stopped mid-append: the file ends {@code bytesPresent} bytes
 * into a record that starts at {@code offset}. {@code bytesExpected} is the whole record's size when its header is
 * present, and only the header's size when the file ends inside the header (the payload's length is then unknown).
 */
public record TornTail(long offset, long recordIndex, long bytesPresent, long bytesExpected) {
    public TornTail {
        if (bytesPresent <= 0 || bytesPresent >= bytesExpected) {
            throw new IllegalArgumentException("a torn record has " + bytesPresent + " of " + bytesExpected + " bytes");
        }
    }

    public String describe() {
        return "record " + recordIndex + " at byte offset " + offset + " is torn: " + bytesPresent + " of "
                + (bytesExpected == JournalFormat.RECORD_HEADER_BYTES ? "at least " : "") + bytesExpected
                + " bytes present";
    }
}
