package dev.vmctl.image;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.vmctl.model.ImageInfo;
import dev.vmctl.model.Names;
import dev.vmctl.model.VmctlException;
import dev.vmctl.model.VmctlException.Kind;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.UnaryOperator;

/**
 * The image catalog: {@code IMAGES_DIR/catalog.json}, {@code {"images": [ImageInfo, ...]}} sorted by name.
 *
 * <p>Every change is a read-modify-write of the whole file, written to a temporary file in the same
 * directory and moved over the old one atomically, so a reader never sees a half-written catalog.
 * Changes are serialised within the JVM (one lock per catalog file, shared by all instances) and
 * between processes (an exclusive lock on {@code IMAGES_DIR/catalog.lock}). Reads are lock-free.
 */
public final class ImageCatalog {
    public static final String FILE_NAME = "catalog.json";
    private static final ConcurrentHashMap<Path, ReentrantLock> LOCKS = new ConcurrentHashMap<>();
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** The file's shape; {@code version} lets a later vmctl migrate it. */
    record CatalogFile(int version, List<ImageInfo> images) {
        CatalogFile {
            images = images == null ? List.of() : List.copyOf(images);
        }
    }

    private final Path dir;
    private final Path file;
    private final ReentrantLock lock;

    public ImageCatalog(Path imagesDir) {
        this.dir = imagesDir.toAbsolutePath().normalize();
        this.file = dir.resolve(FILE_NAME);
        this.lock = LOCKS.computeIfAbsent(file, f -> new ReentrantLock());
    }

    public Path imagesDir() { return dir; }

    public Path file() { return file; }

    /** All images, sorted by name; empty when there is no catalog file yet. */
    public List<ImageInfo> list() {
        return read().images();
    }

    public Optional<ImageInfo> find(String name) {
        return list().stream().filter(i -> i.name().equals(name)).findFirst();
    }

    /** Adds the image, or replaces the entry of the same name. */
    public void put(ImageInfo image) {
        if (image == null) throw VmctlException.invalid("image", "missing", "an image description");
        Names.check("image name", image.name());
        update(images -> {
            List<ImageInfo> next = new ArrayList<>(images.stream().filter(i -> !i.name().equals(image.name())).toList());
            next.add(image);
            return next;
        });
    }

    /**
     * Removes the entry (not the image's files).
     *
     * @throws VmctlException NOT_FOUND when there is no such image
     */
    public void remove(String name) {
        update(images -> {
            if (images.stream().noneMatch(i -> i.name().equals(name))) throw VmctlException.notFound("image", name);
            return images.stream().filter(i -> !i.name().equals(name)).toList();
        });
    }

    private CatalogFile read() {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            return new CatalogFile(1, List.of());
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "read image catalog: " + file + ": " + e.getMessage(), null, e);
        }
        try {
            CatalogFile c = JSON.readValue(bytes, CatalogFile.class);
            return c == null ? new CatalogFile(1, List.of()) : c;
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "read image catalog: " + file + ": not a valid catalog: "
                    + (e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage()), "fix or delete the file; the image directories beside it are kept", e);
        }
    }

    private void update(UnaryOperator<List<ImageInfo>> change) {
        lock.lock();
        try {
            Files.createDirectories(dir);
            try (FileChannel lf = FileChannel.open(dir.resolve("catalog.lock"),
                    StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
                FileLock processLock = lf.lock();
                try {
                    List<ImageInfo> next = new ArrayList<>(change.apply(read().images()));
                    next.sort(Comparator.comparing(ImageInfo::name));
                    write(new CatalogFile(1, next));
                } finally {
                    processLock.release();
                }
            }
        } catch (IOException e) {
            throw new VmctlException(Kind.INTERNAL, "write image catalog: " + file + ": " + e.getMessage(), null, e);
        } finally {
            lock.unlock();
        }
    }

    private void write(CatalogFile c) throws IOException {
        ByteBuffer bytes = ByteBuffer.wrap(JSON.writeValueAsBytes(c));
        Path tmp = Files.createTempFile(dir, ".catalog-", ".json.tmp");
        try {
            Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-r--r--"));
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                while (bytes.hasRemaining()) ch.write(bytes);
                ch.force(true);
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }
}
