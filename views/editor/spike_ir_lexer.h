// QScintilla lexer for Spike IR text: op names, types, %values, @module,
// attribute keys, numbers, strings, b64 payloads, // comments; folding by
// brace depth (the module body and multi-line attribute dictionaries).
#pragma once

#include <Qsci/qscilexercustom.h>

#include <QSet>

namespace stc::views {

class SpikeIrLexer : public QsciLexerCustom {
    Q_OBJECT
public:
    enum Style {
        Default = 0,
        Comment,
        Keyword,
        OpName,
        TypeName,
        ValueRef,
        AttrKey,
        Number,
        String,
        ModuleRef,
        Payload,
        StyleCount
    };
    explicit SpikeIrLexer(QObject* parent = nullptr);

    const char* language() const override { return "Spike IR"; }
    QString description(int style) const override;
    QColor defaultColor(int style) const override;
    QFont defaultFont(int style) const override;
    QColor defaultPaper(int style) const override;
    void styleText(int start, int end) override;
    // Re-reads the palette (light/dark) into the style colours.
    void applyPalette();

    // Style of every byte of a line of text (for tests and the headless report).
    std::vector<int> classifyLine(const QByteArray& line) const;

private:
    QSet<QByteArray> opNames_;
    QSet<QByteArray> typeNames_;
    QSet<QByteArray> keywords_;
};

} // namespace stc::views
