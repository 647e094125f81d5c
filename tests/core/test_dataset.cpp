// Fashion-MNIST IDX reader: the real files from the Debian package and
// broken files written on the fly.
#include "data/fashion_mnist.h"

#include <QTemporaryDir>
#include <QtTest>

#include <zlib.h>

#include <array>
#include <fstream>

using namespace stc;

namespace {

std::vector<uint8_t> idxHeader(uint32_t magic, std::vector<uint32_t> dims)
{
    std::vector<uint8_t> out;
    auto put = [&](uint32_t v) {
        for (int s = 24; s >= 0; s -= 8)
            out.push_back(uint8_t(v >> s));
    };
    put(magic);
    for (uint32_t d : dims)
        put(d);
    return out;
}

void writeGz(const QString& path, const std::vector<uint8_t>& bytes)
{
    gzFile f = gzopen(path.toLocal8Bit().constData(), "wb");
    QVERIFY(f);
    if (!bytes.empty())
        QCOMPARE(gzwrite(f, bytes.data(), unsigned(bytes.size())), int(bytes.size()));
    gzclose(f);
}

void writeRaw(const QString& path, const std::vector<uint8_t>& bytes)
{
    std::ofstream f(path.toStdString(), std::ios::binary);
    f.write(reinterpret_cast<const char*>(bytes.data()), std::streamsize(bytes.size()));
}

std::vector<uint8_t> images(uint32_t n, uint32_t rows, uint32_t cols, uint32_t stored)
{
    auto v = idxHeader(0x803, {n, rows, cols});
    for (uint32_t i = 0; i < stored * rows * cols; ++i)
        v.push_back(uint8_t(i % 256));
    return v;
}

std::vector<uint8_t> labels(uint32_t n, std::vector<uint8_t> values)
{
    auto v = idxHeader(0x801, {n});
    v.insert(v.end(), values.begin(), values.end());
    return v;
}

} // namespace

class TestDataset : public QObject {
    Q_OBJECT

private slots:
    void testSplit();
    void trainSplit();
    void limit();
    void environmentOverride();
    void broken_data();
    void broken();
    void uncompressedIdx();
};

void TestDataset::testSplit()
{
    const auto set = data::loadFashionMnist(data::Split::Test);
    QVERIFY2(set.ok(), set.error.c_str());
    const data::ImageSet& s = set.value;
    QCOMPARE(s.count, int64_t(10000));
    QCOMPARE(s.shape(), (std::vector<int64_t>{10000, 1, 28, 28}));
    QCOMPARE(s.pixels.size(), size_t(10000 * 784));
    QCOMPARE(s.labels.size(), size_t(10000));
    std::array<int, 10> histogram{};
    for (uint8_t l : s.labels)
        ++histogram[l];
    for (int c = 0; c < 10; ++c)
        QCOMPARE(histogram[size_t(c)], 1000);
    // The first test images are an ankle boot, a pullover, two trousers and a shirt.
    QCOMPARE((std::vector<uint8_t>(s.labels.begin(), s.labels.begin() + 5)), (std::vector<uint8_t>{9, 2, 1, 1, 6}));
    QCOMPARE(data::fashionMnistClassNames()[9], std::string("Ankle boot"));
    // Pixels are byte / 255: within [0, 1], both ends present, every value a multiple of 1/255.
    float lo = 1, hi = 0;
    for (size_t i = 0; i < s.pixels.size(); i += 7) {
        const float p = s.pixels[i];
        lo = std::min(lo, p);
        hi = std::max(hi, p);
        const long byte = std::lround(p * 255.0f);
        QCOMPARE(p, float(byte) / 255.0f);
    }
    QCOMPARE(lo, 0.0f);
    QCOMPARE(hi, 1.0f);
    QCOMPARE(s.image(3).size(), size_t(784));
    QCOMPARE(s.image(3).data(), s.pixels.data() + 3 * 784);
    const auto b = s.batch(2, 3);
    QCOMPARE(b.size(), size_t(3 * 784));
    QCOMPARE(b[0], s.pixels[2 * 784]);
}

void TestDataset::trainSplit()
{
    const auto set = data::loadFashionMnist(data::Split::Train);
    QVERIFY2(set.ok(), set.error.c_str());
    QCOMPARE(set.value.count, int64_t(60000));
    std::array<int, 10> histogram{};
    for (uint8_t l : set.value.labels)
        ++histogram[l];
    for (int c = 0; c < 10; ++c)
        QCOMPARE(histogram[size_t(c)], 6000);
}

void TestDataset::limit()
{
    const auto set = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), 100);
    QVERIFY2(set.ok(), set.error.c_str());
    QCOMPARE(set.value.count, int64_t(100));
    QCOMPARE(set.value.labels.size(), size_t(100));
    QCOMPARE(set.value.pixels.size(), size_t(100 * 784));
    const auto full = data::loadFashionMnist(data::Split::Test, data::defaultFashionMnistDir(), 20000);
    QCOMPARE(full.value.count, int64_t(10000)); // a limit above the file's count reads everything
}

void TestDataset::environmentOverride()
{
    const QByteArray old = qgetenv("STC_FASHION_MNIST_DIR");
    qputenv("STC_FASHION_MNIST_DIR", "/nonexistent/fmnist");
    QCOMPARE(data::defaultFashionMnistDir(), std::string("/nonexistent/fmnist"));
    const auto set = data::loadFashionMnist(data::Split::Test);
    QVERIFY(!set.ok());
    QVERIFY2(QString::fromStdString(set.error).contains("/nonexistent/fmnist/t10k-images-idx3-ubyte.gz"),
             set.error.c_str());
    QVERIFY2(QString::fromStdString(set.error).contains("file not found"), set.error.c_str());
    if (old.isEmpty())
        qunsetenv("STC_FASHION_MNIST_DIR");
    else
        qputenv("STC_FASHION_MNIST_DIR", old);
    QCOMPARE(data::defaultFashionMnistDir(), old.isEmpty() ? std::string("/usr/share/datasets/fashion-mnist")
                                                           : old.toStdString());
}

void TestDataset::broken_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("message");
    QTest::newRow("missing labels") << "missing labels" << "t10k-labels-idx1-ubyte.gz: file not found";
    QTest::newRow("labels as images") << "labels as images" << "not an IDX image file (magic 0x00000801";
    QTest::newRow("empty file") << "empty file" << "file ends early while reading the IDX header";
    QTest::newRow("too few pixels") << "too few pixels"
                                    << "file ends early while reading the pixels (header announces 5 images of 28x28)";
    QTest::newRow("truncated gzip") << "truncated gzip" << "while reading the pixels";
    QTest::newRow("count mismatch") << "count mismatch" << "5 images but 4 labels";
    QTest::newRow("bad label") << "bad label" << "label 12 at index 2 is not a class 0..9";
    QTest::newRow("garbage") << "garbage" << "not an IDX image file";
    QTest::newRow("huge dims") << "huge dims" << "implausible IDX dimensions";
}

void TestDataset::broken()
{
    QFETCH(QString, kind);
    QFETCH(QString, message);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString img = dir.filePath("t10k-images-idx3-ubyte.gz"), lab = dir.filePath("t10k-labels-idx1-ubyte.gz");
    writeGz(img, images(5, 28, 28, 5));
    writeGz(lab, labels(5, {0, 1, 2, 3, 4}));
    if (kind == "missing labels") {
        QFile::remove(lab);
    } else if (kind == "labels as images") {
        writeGz(img, labels(5, {0, 1, 2, 3, 4}));
    } else if (kind == "empty file") {
        writeGz(img, {});
    } else if (kind == "too few pixels") {
        writeGz(img, images(5, 28, 28, 3));
    } else if (kind == "truncated gzip") {
        // A real compressed stream cut in the middle.
        std::vector<uint8_t> big = images(200, 28, 28, 200);
        for (size_t i = 16; i < big.size(); ++i)
            big[i] = uint8_t((i * 2654435761u) >> 13);
        writeGz(img, big);
        QFile f(img);
        QVERIFY(f.open(QIODevice::ReadWrite));
        QVERIFY(f.resize(f.size() / 2));
    } else if (kind == "count mismatch") {
        writeGz(lab, labels(4, {0, 1, 2, 3}));
    } else if (kind == "bad label") {
        writeGz(lab, labels(5, {0, 1, 12, 3, 4}));
    } else if (kind == "garbage") {
        writeRaw(img, {'h', 'e', 'l', 'l', 'o', ' ', 'w', 'o', 'r', 'l', 'd', '!', '!', '!', '!', '!'});
    } else if (kind == "huge dims") {
        writeGz(img, idxHeader(0x803, {1, 100000, 100000}));
    }
    const auto set = data::loadFashionMnist(data::Split::Test, dir.path().toStdString());
    QVERIFY(!set.ok());
    QVERIFY2(QString::fromStdString(set.error).contains(message), set.error.c_str());
    QCOMPARE(set.value.count, int64_t(0));
    QVERIFY(set.value.pixels.empty());
    // The good pair of files loads.
    if (kind == "bad label") {
        writeGz(lab, labels(5, {0, 1, 2, 3, 4}));
        const auto ok = data::loadFashionMnist(data::Split::Test, dir.path().toStdString());
        QVERIFY2(ok.ok(), ok.error.c_str());
        QCOMPARE(ok.value.count, int64_t(5));
        QCOMPARE(ok.value.pixels[1], 1.0f / 255.0f);
    }
}

void TestDataset::uncompressedIdx()
{
    QTemporaryDir dir;
    const QString img = dir.filePath("plain-images"), lab = dir.filePath("plain-labels");
    writeRaw(img, images(2, 3, 4, 2));
    writeRaw(lab, labels(2, {7, 8}));
    const auto set = data::readIdxImages(img.toStdString());
    QVERIFY2(set.ok(), set.error.c_str());
    QCOMPARE(set.value.shape(), (std::vector<int64_t>{2, 1, 3, 4}));
    QCOMPARE(set.value.pixels[23], 23.0f / 255.0f);
    const auto l = data::readIdxLabels(lab.toStdString());
    QVERIFY2(l.ok(), l.error.c_str());
    QCOMPARE(l.value, (std::vector<uint8_t>{7, 8}));
}

QTEST_GUILESS_MAIN(TestDataset)
#include "test_dataset.moc"
