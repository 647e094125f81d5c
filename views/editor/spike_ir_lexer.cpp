#include "editor/spike_ir_lexer.h"

#include "common/theme.h"
#include "ir/ops.h"

#include <Qsci/qsciscintilla.h>

#include <QApplication>
#include <QFontDatabase>

namespace stc::views {

namespace {
bool identStart(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool identChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; }
bool nameChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '$'; }
} // namespace

SpikeIrLexer::SpikeIrLexer(QObject* parent) : QsciLexerCustom(parent)
{
    for (const auto& def : ir::allOpDefs())
        opNames_.insert(QByteArray(def.name.data(), int(def.name.size())));
    for (const char* t : {"f32", "i8", "i16", "i32", "spike", "graded", "T"})
        typeNames_.insert(t);
    for (const char* k : {"module", "loc", "true", "false", "inf", "nan", "timesteps"})
        keywords_.insert(k);
    applyPalette();
}

QString SpikeIrLexer::description(int style) const
{
    static const char* names[] = {"Default", "Comment", "Keyword", "Op name", "Type", "Value",
                                  "Attribute", "Number", "String", "Module", "Payload"};
    return style >= 0 && style < StyleCount ? names[style] : QString();
}

QColor SpikeIrLexer::defaultColor(int style) const
{
    const bool dark = theme::isDark();
    switch (style) {
    case Comment: return dark ? QColor("#6f7a88") : QColor("#7a8594");
    case Keyword: return dark ? QColor("#c792ea") : QColor("#8e44ad");
    case OpName: return dark ? QColor("#82aaff") : QColor("#1f5fbf");
    case TypeName: return dark ? QColor("#4fd6be") : QColor("#0b7a66");
    case ValueRef: return dark ? QColor("#ffcb6b") : QColor("#a15c00");
    case AttrKey: return dark ? QColor("#addb67") : QColor("#4d7c0f");
    case Number: return dark ? QColor("#f78c6c") : QColor("#b5371b");
    case String: return dark ? QColor("#c3e88d") : QColor("#2e7d32");
    case ModuleRef: return dark ? QColor("#ff9cac") : QColor("#ad1457");
    case Payload: return dark ? QColor("#5c6370") : QColor("#a0a7b1");
    default: return QApplication::palette().color(QPalette::Text);
    }
}

QFont SpikeIrLexer::defaultFont(int style) const
{
    QFont f = QFontDatabase::systemFont(QFontDatabase::FixedFont);
    f.setPointSizeF(std::max(9.0, QApplication::font().pointSizeF()));
    if (style == OpName || style == Keyword)
        f.setBold(true);
    if (style == Comment)
        f.setItalic(true);
    return f;
}

QColor SpikeIrLexer::defaultPaper(int) const { return QApplication::palette().color(QPalette::Base); }

void SpikeIrLexer::applyPalette()
{
    for (int s = 0; s < StyleCount; ++s) {
        setColor(defaultColor(s), s);
        setPaper(defaultPaper(s), s);
        setFont(defaultFont(s), s);
    }
    setDefaultPaper(defaultPaper(0));
    setDefaultColor(defaultColor(0));
    setDefaultFont(defaultFont(0));
}

std::vector<int> SpikeIrLexer::classifyLine(const QByteArray& line) const
{
    std::vector<int> styles(size_t(line.size()), Default);
    const int n = int(line.size());
    int i = 0;
    auto mark = [&](int from, int to, int style) {
        for (int k = from; k < to && k < n; ++k)
            styles[size_t(k)] = style;
    };
    bool afterColon = false; // `: f32[...]` — identifiers after ':' are types
    while (i < n) {
        const char c = line[i];
        if (c == '/' && i + 1 < n && line[i + 1] == '/') {
            mark(i, n, Comment);
            break;
        }
        if (c == '"' || (c == 'b' && i + 3 < n && line.mid(i, 4) == "b64\"")) {
            const bool payload = c == 'b';
            int j = i + (payload ? 4 : 1);
            while (j < n && line[j] != '"') {
                if (line[j] == '\\')
                    ++j;
                ++j;
            }
            mark(i, j + 1, payload ? Payload : String);
            i = j + 1;
            continue;
        }
        if (c == '%' || c == '@') {
            int j = i + 1;
            while (j < n && nameChar(line[j]))
                ++j;
            mark(i, j, c == '%' ? ValueRef : ModuleRef);
            i = j;
            continue;
        }
        if (std::isdigit(static_cast<unsigned char>(c)) ||
            (c == '-' && i + 1 < n && (std::isdigit(static_cast<unsigned char>(line[i + 1])) || line[i + 1] == 'i'))) {
            int j = i + 1;
            while (j < n && (std::isalnum(static_cast<unsigned char>(line[j])) || line[j] == '.' ||
                             ((line[j] == '-' || line[j] == '+') && (line[j - 1] == 'e' || line[j - 1] == 'E'))))
                ++j;
            mark(i, j, Number);
            i = j;
            continue;
        }
        if (identStart(c)) {
            int j = i + 1;
            while (j < n && identChar(line[j]))
                ++j;
            const QByteArray word = line.mid(i, j - i);
            int k = j;
            while (k < n && line[k] == ' ')
                ++k;
            int style = Default;
            if (afterColon && typeNames_.contains(word))
                style = TypeName;
            else if (keywords_.contains(word))
                style = Keyword;
            else if (k < n && line[k] == '=' && (k + 1 >= n || line[k + 1] != '='))
                style = AttrKey;
            else if (opNames_.contains(word))
                style = OpName;
            else if (typeNames_.contains(word))
                style = TypeName;
            mark(i, j, style);
            i = j;
            continue;
        }
        if (c == ':')
            afterColon = true;
        else if (c == '(' || c == '{')
            afterColon = false;
        ++i;
    }
    return styles;
}

void SpikeIrLexer::styleText(int start, int end)
{
    QsciScintilla* ed = editor();
    if (!ed || start >= end)
        return;
    // Restyle whole lines so tokens are never cut.
    const int firstLine = int(ed->SendScintilla(QsciScintilla::SCI_LINEFROMPOSITION, start));
    const int lastLine = int(ed->SendScintilla(QsciScintilla::SCI_LINEFROMPOSITION, end));
    const int from = int(ed->SendScintilla(QsciScintilla::SCI_POSITIONFROMLINE, firstLine));

    // Brace depth at the start of firstLine comes from the previous line's fold level.
    int depth = 0;
    if (firstLine > 0) {
        const int prev = int(ed->SendScintilla(QsciScintilla::SCI_GETFOLDLEVEL, firstLine - 1)) & QsciScintilla::SC_FOLDLEVELNUMBERMASK;
        depth = prev - QsciScintilla::SC_FOLDLEVELBASE;
        // The previous line's level is its start depth; add its own brace balance.
        QByteArray prevText(int(ed->SendScintilla(QsciScintilla::SCI_LINELENGTH, firstLine - 1)) + 1, '\0');
        ed->SendScintilla(QsciScintilla::SCI_GETLINE, firstLine - 1, prevText.data());
        const auto prevStyles = classifyLine(prevText);
        for (int k = 0; k < prevText.size(); ++k)
            if (prevStyles[size_t(k)] == Default)
                depth += prevText[k] == '{' ? 1 : prevText[k] == '}' ? -1 : 0;
        depth = std::max(0, depth);
    }

    startStyling(from);
    for (int line = firstLine; line <= lastLine; ++line) {
        const int len = int(ed->SendScintilla(QsciScintilla::SCI_LINELENGTH, line));
        QByteArray text(len + 1, '\0');
        ed->SendScintilla(QsciScintilla::SCI_GETLINE, line, text.data());
        text.truncate(len);
        const auto styles = classifyLine(text);
        int runStart = 0;
        for (int k = 1; k <= len; ++k)
            if (k == len || styles[size_t(k)] != styles[size_t(runStart)]) {
                setStyling(k - runStart, styles[size_t(runStart)]);
                runStart = k;
            }
        int delta = 0;
        for (int k = 0; k < len; ++k)
            if (styles[size_t(k)] == Default)
                delta += text[k] == '{' ? 1 : text[k] == '}' ? -1 : 0;
        // A line's level is the depth at its start: the closing brace folds with the body.
        int level = QsciScintilla::SC_FOLDLEVELBASE + depth;
        if (delta > 0)
            level |= QsciScintilla::SC_FOLDLEVELHEADERFLAG;
        ed->SendScintilla(QsciScintilla::SCI_SETFOLDLEVEL, line, level);
        depth = std::max(0, depth + delta);
    }
}

} // namespace stc::views
