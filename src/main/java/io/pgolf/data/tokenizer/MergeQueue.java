package io.pgolf.data.tokenizer;

import java.util.Arrays;

/**
 * A binary min-heap of (long key, int value) pairs in two primitive arrays, so that BPE's agenda of merge
 * candidates allocates nothing per candidate.
 */
final class MergeQueue {
    private long[] keys;
    private int[] values;
    private int size;
    private int poppedValue;

    MergeQueue(int capacity) {
        keys = new long[Math.max(capacity, 16)];
        values = new int[keys.length];
    }

    boolean isEmpty() {
        return size == 0;
    }

    void push(long key, int value) {
        if (size == keys.length) {
            keys = Arrays.copyOf(keys, size * 2);
            values = Arrays.copyOf(values, size * 2);
        }
        int i = size++;
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            if (keys[parent] <= key) {
                break;
            }
            keys[i] = keys[parent];
            values[i] = values[parent];
            i = parent;
        }
        keys[i] = key;
        values[i] = value;
    }

    /** Removes the smallest key and returns it; its value is then {@link #poppedValue()}. */
    long pop() {
        long top = keys[0];
        poppedValue = values[0];
        size--;
        long key = keys[size];
        int value = values[size];
        int i = 0;
        int half = size >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            if (child + 1 < size && keys[child + 1] < keys[child]) {
                child++;
            }
            if (key <= keys[child]) {
                break;
            }
            keys[i] = keys[child];
            values[i] = values[child];
            i = child;
        }
        keys[i] = key;
        values[i] = value;
        return top;
    }

    int poppedValue() {
        return poppedValue;
    }
}
