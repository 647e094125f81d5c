#include "passes/pass_panel.h"

#include "common/theme.h"
#include "ir/printer.h"
#include "jobs/job_runner.h"
#include "passes/instruments.h"
#include "passes/pipeline_model.h"

#include <algorithm>
#include <QFontDatabase>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QListView>
#include <QMenu>
#include <QPlainTextEdit>
#include <QSyntaxHighlighter>
#include <QSplitter>
#include <QTableWidget>
#include <QToolButton>
#include <QUndoCommand>
#include <QVBoxLayout>

#include <map>

namespace stc::views {

class PipelineCommand : public QUndoCommand {
public:
    PipelineCommand(PassPanel* panel, passes::Pipeline before, passes::Pipeline after, const QString& text)
        : QUndoCommand(text), panel_(panel), before_(std::move(before)), after_(std::move(after))
    {
    }
    void redo() override { panel_->applyPipeline(after_); }
    void undo() override { panel_->applyPipeline(before_); }

private:
    PassPanel* panel_;
    passes::Pipeline before_, after_;
};

namespace {

// Colours "+ " / "- " lines of the IR diff.
class DiffHighlighter : public QSyntaxHighlighter {
public:
    using QSyntaxHighlighter::QSyntaxHighlighter;

protected:
    void highlightBlock(const QString& text) override
    {
        if (text.size() < 2 || text[1] != ' ' || (text[0] != '+' && text[0] != '-'))
            return;
        const bool dark = theme::isDark();
        QTextCharFormat f;
        f.setForeground(text[0] == '+' ? theme::okColor(dark) : theme::errorColor(dark));
        f.setBackground(text[0] == '+' ? (dark ? QColor("#1e3323") : QColor("#e9f7ec"))
                                       : (dark ? QColor("#3a2222") : QColor("#fdecec")));
        setFormat(0, int(text.size()), f);
    }
};

std::map<std::string, std::string> linesByValue(const std::string& text)
{
    std::map<std::string, std::string> out;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos)
            end = text.size();
        const std::string line = text.substr(pos, end - pos);
        const size_t pct = line.find_first_not_of(' ');
        if (pct != std::string::npos && line[pct] == '%') {
            const size_t eq = line.find(" = ", pct);
            if (eq != std::string::npos)
                out[line.substr(pct + 1, eq - pct - 1)] = line;
        }
        pos = end + 1;
    }
    return out;
}

std::vector<std::string> splitLines(const std::string& s)
{
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos < s.size()) {
        size_t end = s.find('\n', pos);
        if (end == std::string::npos)
            end = s.size();
        out.push_back(s.substr(pos, end - pos));
        pos = end + 1;
    }
    return out;
}

passes::Pipeline defaultPipeline(const passes::PassRegistry& registry)
{
    passes::Pipeline p;
    // Ends with schedule-time like `stc compile`'s default, so the IDE's package
    // uses the same (throughput) schedule and static energy as the CLI's.
    for (const char* name :
         {"canonicalize", "fold-bn", "reassociate-matmul", "lower-attention", "fuse", "quantize", "dce", "schedule-time"})
        if (registry.find(name))
            p.add(name);
    return p;
}

} // namespace

PassDiff diffIr(const std::string& before, const std::string& after, const ir::Module* document)
{
    PassDiff d;
    const auto a = splitLines(before), b = splitLines(after);
    const size_t n = a.size(), m = b.size();
    QStringList out;
    if (n * m <= 4'000'000) {
        std::vector<std::vector<uint32_t>> lcs(n + 1, std::vector<uint32_t>(m + 1, 0));
        for (size_t i = n; i-- > 0;)
            for (size_t j = m; j-- > 0;)
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : std::max(lcs[i + 1][j], lcs[i][j + 1]);
        size_t i = 0, j = 0;
        while (i < n || j < m) {
            if (i < n && j < m && a[i] == b[j]) {
                out << "  " + QString::fromStdString(a[i]);
                ++i, ++j;
            } else if (j < m && (i == n || lcs[i][j + 1] >= lcs[i + 1][j])) {
                out << "+ " + QString::fromStdString(b[j++]);
            } else {
                out << "- " + QString::fromStdString(a[i++]);
            }
        }
    } else {
        out << "(IR too large for a line diff; showing the IR after the pass)";
        for (const auto& l : b)
            out << "  " + QString::fromStdString(l);
    }
    d.text = out.join('\n');
    if (document) {
        const auto beforeLines = linesByValue(before), afterLines = linesByValue(after);
        for (size_t i = 0; i < document->ops().size(); ++i) {
            const ir::Op& op = document->ops()[i];
            if (op.result == ir::kNoValue)
                continue;
            const std::string& name = document->value(op.result).name;
            auto bi = beforeLines.find(name);
            if (bi == beforeLines.end())
                continue;
            auto ai = afterLines.find(name);
            if (ai == afterLines.end() || ai->second != bi->second)
                d.changedOps.insert(int(i));
        }
    }
    return d;
}

PassPanel::PassPanel(Document* document, JobRunner* jobs, QWidget* parent)
    : QWidget(parent), doc_(document), jobs_(jobs),
      registry_(std::make_unique<passes::PassRegistry>(passes::makeBuiltinRegistry()))
{
    setObjectName("passPanel");
    model_ = new PipelineModel(registry_.get(), this);
    model_->setPipeline(defaultPipeline(*registry_));

    text_ = new QLineEdit(this);
    text_->setObjectName("pipelineText");
    text_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    text_->setPlaceholderText("pass,pass{option=value},-disabled-pass");
    text_->setToolTip("Pipeline text; Enter applies. A leading '-' disables an entry.");
    textError_ = new QLabel(this);
    textError_->setWordWrap(true);
    textError_->hide();

    list_ = new QListView(this);
    list_->setModel(model_);
    list_->setDragDropMode(QAbstractItemView::InternalMove);
    list_->setDragEnabled(true);
    list_->setAcceptDrops(true);
    list_->setDropIndicatorShown(true);
    list_->setDefaultDropAction(Qt::MoveAction);
    list_->setAlternatingRowColors(true);

    add_ = new QToolButton(this);
    add_->setText("Add pass");
    add_->setPopupMode(QToolButton::InstantPopup);
    auto* addMenu = new QMenu(add_);
    for (const auto& def : registry_->passes()) {
        QAction* a = addMenu->addAction(QString::fromStdString(def.info.name));
        a->setToolTip(QString::fromStdString(def.info.description));
        a->setObjectName("pipeline.add." + QString::fromStdString(def.info.name));
        connect(a, &QAction::triggered, this, [this, name = def.info.name] { model_->requestAdd(name); });
    }
    addMenu->setToolTipsVisible(true);
    add_->setMenu(addMenu);
    remove_ = new QToolButton(this);
    remove_->setText("Remove");
    remove_->setIcon(QIcon(":/icons/delete.svg"));
    remove_->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    auto* target = targetLabel_ = new QLabel(this);
    target->setObjectName("pipeline.target");
    setTarget(target_);
    target->setToolTip("After every successful compile the Floorplan panel partitions, places and routes the "
                       "result onto the chip chosen there (core/target) in the background.");

    options_ = new QTableWidget(0, 2, this);
    options_->setHorizontalHeaderLabels({"Option", "Value"});
    options_->horizontalHeader()->setStretchLastSection(true);
    options_->verticalHeader()->hide();
    options_->setMaximumHeight(120);
    details_ = new QLabel(this);
    details_->setWordWrap(true);
    details_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    diff_ = new QPlainTextEdit(this);
    diff_->setReadOnly(true);
    diff_->setLineWrapMode(QPlainTextEdit::NoWrap);
    diff_->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    diff_->setPlaceholderText("Click a pass to see the IR before → after.");
    new DiffHighlighter(diff_->document());
    summary_ = new QLabel(this);

    auto* buttons = new QHBoxLayout;
    buttons->addWidget(add_);
    buttons->addWidget(remove_);
    buttons->addStretch(1);
    auto* top = new QWidget(this);
    auto* topLayout = new QVBoxLayout(top);
    topLayout->setContentsMargins(0, 0, 0, 0);
    topLayout->addWidget(target);
    topLayout->addWidget(text_);
    topLayout->addWidget(textError_);
    topLayout->addLayout(buttons);
    topLayout->addWidget(list_, 1);
    topLayout->addWidget(summary_);
    topLayout->addWidget(options_);
    auto* bottom = new QWidget(this);
    auto* bottomLayout = new QVBoxLayout(bottom);
    bottomLayout->setContentsMargins(0, 0, 0, 0);
    bottomLayout->addWidget(details_);
    bottomLayout->addWidget(diff_, 1);
    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(top);
    split->addWidget(bottom);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(split);

    text_->setText(model_->text());
    connect(text_, &QLineEdit::returnPressed, this, &PassPanel::commitText);
    connect(text_, &QLineEdit::editingFinished, this, &PassPanel::commitText);
    connect(model_, &PipelineModel::changeRequested, this, &PassPanel::pushChange);
    connect(remove_, &QToolButton::clicked, this, [this] { model_->requestRemove(list_->currentIndex().row()); });
    connect(list_->selectionModel(), &QItemSelectionModel::currentChanged, this,
            [this](const QModelIndex& i) { showDetails(i.row()); });
    connect(options_, &QTableWidget::cellChanged, this, [this](int row, int col) {
        if (fillingOptions_ || col != 1)
            return;
        const int entry = list_->currentIndex().row();
        if (entry < 0)
            return;
        const auto& e = model_->pipeline().entries[size_t(entry)];
        const passes::PassDef* def = registry_->find(e.pass);
        if (!def || row >= int(def->info.options.size()))
            return;
        const passes::OptionSpec& spec = def->info.options[size_t(row)];
        std::string error;
        auto value = passes::parseOptionValue(spec, options_->item(row, 1)->text().toStdString(), &error);
        if (!value) {
            details_->setText(QString("<span style='color:%1'>%2: %3</span>")
                                  .arg(theme::errorColor(theme::isDark()).name(), QString::fromStdString(spec.name),
                                       QString::fromStdString(error).toHtmlEscaped()));
            return;
        }
        passes::OptionMap options = e.options;
        options[spec.name] = *value;
        model_->requestOptions(entry, options);
    });
    connect(doc_, &Document::moduleChanged, this, [this] {
        if (doc_->hasModule())
            recompile();
    });
}

PassPanel::~PassPanel() = default;

bool PassPanel::available() const { return true; }
bool PassPanel::compiling() const { return jobs_->isRunning("compile"); }
QString PassPanel::pipelineString() const { return model_->text(); }

void PassPanel::setPipelineText(const QString& text)
{
    text_->setText(text);
    commitText();
}

void PassPanel::commitText()
{
    if (text_->text() == model_->text()) {
        textError_->hide();
        return;
    }
    Diagnostics diags;
    auto parsed = passes::parsePipeline(text_->text().toStdString(), *registry_, diags);
    if (!parsed) {
        textError_->setText(QString("<span style='color:%1'>%2</span>")
                                .arg(theme::errorColor(theme::isDark()).name(),
                                     QString::fromStdString(diags.format()).toHtmlEscaped()));
        textError_->show();
        return;
    }
    textError_->hide();
    pushChange(*parsed, "Edit pipeline text");
}

void PassPanel::pushChange(const passes::Pipeline& p, const QString& description)
{
    if (p == model_->pipeline())
        return;
    doc_->undoStack()->push(new PipelineCommand(this, model_->pipeline(), p, description));
}

void PassPanel::applyPipeline(const passes::Pipeline& p)
{
    const int row = list_->currentIndex().row();
    model_->setPipeline(p);
    if (text_->text() != model_->text())
        text_->setText(model_->text());
    textError_->hide();
    if (row >= 0 && row < model_->rowCount())
        list_->setCurrentIndex(model_->index(row));
    recompile();
}

void PassPanel::setTarget(const QString& chip)
{
    targetLabel_->setText(QString("target: <b>%1</b> <span style='color:gray'>(chosen in the Floorplan panel)</span>")
                              .arg(chip.toHtmlEscaped()));
    if (chip == target_)
        return;
    target_ = chip;
    const auto& entries = model_->pipeline().entries;
    const bool usesTarget = std::any_of(entries.begin(), entries.end(), [](const passes::PipelineEntry& e) {
        return e.enabled && (e.pass == "partition" || e.pass == "place" || e.pass == "route");
    });
    if (usesTarget && doc_->module())
        recompile();
}

void PassPanel::recompile()
{
    if (!doc_->hasModule())
        return;
    ModulePtr module = doc_->module();
    const passes::Pipeline pipeline = model_->pipeline();
    const passes::PassRegistry* registry = registry_.get();
    struct Compiled {
        passes::RunStatus status = passes::RunStatus::Ok;
        std::vector<passes::PassRecord> records;
        Diagnostics pipelineDiagnostics;
        std::vector<std::string> before, after;
        ModulePtr module;
        double seconds = 0;
    };
    summary_->setText("compiling…");
    jobs_->start<Compiled>(
        "compile", "Compiling (pass pipeline)",
        [module, pipeline, registry, chip = target_.toStdString()](JobContext& job) {
            passes::CompileContext ctx;
            ctx.target = chip;
            // Elided constants keep snapshots small; the diff is for reading.
            auto snapshots = std::make_shared<passes::SnapshotInstrument>(
                [](const ir::Module& m) { return ir::printModule(m, ir::PrintOptions{true}); });
            ctx.instruments.push_back(snapshots);
            ctx.onProgress = [&](const passes::Progress& p) {
                if (job.cancelled())
                    ctx.cancel();
                job.progress(p.overall, p.pass);
            };
            passes::RunResult r = passes::runPipeline(*module, pipeline, *registry, ctx);
            Compiled c;
            c.status = r.status;
            c.records = r.records;
            c.pipelineDiagnostics = r.diagnostics;
            c.seconds = r.seconds;
            c.module = std::make_shared<const ir::Module>(std::move(r.module));
            c.before.resize(pipeline.entries.size());
            c.after.resize(pipeline.entries.size());
            for (const auto& s : snapshots->snapshots())
                if (s.entryIndex >= 0 && size_t(s.entryIndex) < c.before.size()) {
                    c.before[size_t(s.entryIndex)] = s.before;
                    c.after[size_t(s.entryIndex)] = s.after;
                }
            return c;
        },
        [this](Compiled c) {
            ++compileCount_;
            lastStatus_ = c.status;
            compiled_ = c.module;
            before_ = std::move(c.before);
            after_ = std::move(c.after);
            model_->setRecords(c.records);
            // Pipeline diagnostics route back to their entry on click.
            std::vector<LocatedDiagnostic> located;
            for (const auto& d : c.pipelineDiagnostics.items())
                located.push_back({d, DiagSource::Pipeline, -1, -1});
            for (const auto& r : c.records)
                for (const auto& d : r.diagnostics.items())
                    located.push_back({d, DiagSource::Pipeline, -1, r.entryIndex});
            doc_->setLocatedDiagnostics(DiagSource::Pipeline, std::move(located));
            const bool dark = theme::isDark();
            int failed = -1;
            for (const auto& r : c.records)
                if (r.status == passes::PassStatus::Failed && failed < 0)
                    failed = r.entryIndex;
            summary_->setText(c.status == passes::RunStatus::Ok
                                  ? QString("<span style='color:%1'>✓</span> compiled in %2 ms → %3 ops")
                                        .arg(theme::okColor(dark).name())
                                        .arg(c.seconds * 1000, 0, 'f', 1)
                                        .arg(compiled_->ops().size())
                                  : QString("<span style='color:%1'>✗ %2</span>")
                                        .arg(theme::errorColor(dark).name(),
                                             failed >= 0 ? QString("pass #%1 failed").arg(failed + 1)
                                                         : QString(passes::toString(c.status))));
            showDetails(list_->currentIndex().row());
            emit compiled(c.status == passes::RunStatus::Ok);
        });
}

void PassPanel::selectPass(int index)
{
    if (index >= 0 && index < model_->rowCount())
        list_->setCurrentIndex(model_->index(index));
}

void PassPanel::showDetails(int row)
{
    fillingOptions_ = true;
    options_->setRowCount(0);
    if (row < 0 || row >= model_->rowCount()) {
        details_->clear();
        diff_->clear();
        fillingOptions_ = false;
        emit highlightOps({});
        return;
    }
    const auto& e = model_->pipeline().entries[size_t(row)];
    if (const passes::PassDef* def = registry_->find(e.pass)) {
        options_->setRowCount(int(def->info.options.size()));
        for (size_t i = 0; i < def->info.options.size(); ++i) {
            const auto& spec = def->info.options[i];
            auto* name = new QTableWidgetItem(QString::fromStdString(spec.name));
            name->setFlags(Qt::ItemIsEnabled);
            name->setToolTip(QString::fromStdString(spec.doc));
            auto it = e.options.find(spec.name);
            auto* value = new QTableWidgetItem(
                QString::fromStdString(passes::formatOptionValue(it != e.options.end() ? it->second : spec.defaultValue)));
            value->setToolTip(QString::fromStdString(spec.doc));
            options_->setItem(int(i), 0, name);
            options_->setItem(int(i), 1, value);
        }
    }
    fillingOptions_ = false;
    const QModelIndex idx = model_->index(row);
    QString html = QString("<b>%1</b> — %2").arg(QString::fromStdString(e.pass), model_->data(idx, PipelineModel::StatusRole).toString());
    const double secs = model_->data(idx, PipelineModel::SecondsRole).toDouble();
    if (secs > 0)
        html += QString(" · %1 ms").arg(secs * 1000, 0, 'f', 2);
    const QStringList stats = model_->data(idx, PipelineModel::StatsRole).toStringList();
    if (!stats.isEmpty())
        html += "<br>" + stats.join(" · ").toHtmlEscaped();
    if (size_t(row) < model_->records().size())
        for (const auto& d : model_->records()[size_t(row)].diagnostics.items())
            html += QString("<br><span style='color:%1'>%2</span>")
                        .arg((d.severity == Severity::Error ? theme::errorColor(theme::isDark()) : theme::warningColor(theme::isDark())).name(),
                             QString::fromStdString(d.format()).toHtmlEscaped());
    details_->setText(html);
    if (size_t(row) < before_.size() && !before_[size_t(row)].empty()) {
        const PassDiff d = diffIr(before_[size_t(row)], after_[size_t(row)], doc_->module().get());
        diff_->setPlainText(d.text);
        emit highlightOps(d.changedOps);
    } else {
        diff_->setPlainText("(no IR snapshot: the pass did not run)");
        emit highlightOps({});
    }
}

} // namespace stc::views
