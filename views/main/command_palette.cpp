#include "main/command_palette.h"

#include <QAction>
#include <QApplication>
#include <QKeyEvent>
#include <QLineEdit>
#include <QListView>
#include <QMainWindow>
#include <QMenu>
#include <QMenuBar>
#include <QVBoxLayout>

#include <algorithm>
#include <set>

namespace stc::views {

int fuzzyScore(const QString& pattern, const QString& text)
{
    if (pattern.isEmpty())
        return 0;
    int score = 0, ti = 0, run = 0;
    for (const QChar pc : pattern) {
        if (pc.isSpace())
            continue;
        bool found = false;
        for (; ti < text.size(); ++ti) {
            if (text[ti].toLower() != pc.toLower()) {
                run = 0;
                continue;
            }
            const bool wordStart = ti == 0 || !text[ti - 1].isLetterOrNumber();
            score += 1 + (wordStart ? 8 : 0) + run * 4;
            ++run;
            ++ti;
            found = true;
            break;
        }
        if (!found)
            return -1;
    }
    return score * 100 / (100 + int(text.size())); // shorter texts win ties
}

CommandModel::CommandModel(QObject* parent) : QAbstractListModel(parent) {}

void CommandModel::setActions(const QList<QAction*>& actions)
{
    beginResetModel();
    all_.clear();
    for (QAction* a : actions) {
        QString path = a->property("stcMenuPath").toString();
        QString text = a->text().remove('&').remove(QStringLiteral("..."));
        all_.push_back({a, path.isEmpty() ? text : path + " › " + text,
                        a->shortcut().toString(QKeySequence::NativeText), 0});
    }
    visible_.clear();
    for (size_t i = 0; i < all_.size(); ++i)
        visible_.push_back(int(i));
    endResetModel();
}

void CommandModel::setFilter(const QString& pattern)
{
    beginResetModel();
    visible_.clear();
    for (size_t i = 0; i < all_.size(); ++i) {
        all_[i].score = fuzzyScore(pattern, all_[i].text);
        if (all_[i].score >= 0 && all_[i].action)
            visible_.push_back(int(i));
    }
    std::stable_sort(visible_.begin(), visible_.end(), [&](int a, int b) { return all_[size_t(a)].score > all_[size_t(b)].score; });
    endResetModel();
}

QAction* CommandModel::actionAt(int row) const
{
    return row >= 0 && row < int(visible_.size()) ? all_[size_t(visible_[size_t(row)])].action.data() : nullptr;
}

int CommandModel::rowCount(const QModelIndex& parent) const { return parent.isValid() ? 0 : int(visible_.size()); }

QVariant CommandModel::data(const QModelIndex& index, int role) const
{
    if (!index.isValid() || index.row() >= int(visible_.size()))
        return {};
    const Entry& e = all_[size_t(visible_[size_t(index.row())])];
    switch (role) {
    case Qt::DisplayRole: return e.shortcut.isEmpty() ? e.text : e.text + "    " + e.shortcut;
    case Qt::DecorationRole: return e.action ? e.action->icon() : QIcon();
    case Qt::ToolTipRole: return e.action ? e.action->toolTip() : QString();
    case Qt::ForegroundRole:
        if (e.action && !e.action->isEnabled())
            return QApplication::palette().brush(QPalette::Disabled, QPalette::Text);
        return {};
    default: return {};
    }
}

QList<QAction*> collectActions(QWidget* window)
{
    QList<QAction*> out;
    std::set<QAction*> seen;
    std::function<void(QMenu*, const QString&)> walk = [&](QMenu* menu, const QString& path) {
        for (QAction* a : menu->actions()) {
            if (a->isSeparator())
                continue;
            if (a->menu()) {
                walk(a->menu(), path + " › " + a->menu()->title().remove('&'));
                continue;
            }
            if (seen.insert(a).second) {
                a->setProperty("stcMenuPath", path);
                out << a;
            }
        }
    };
    if (auto* mw = qobject_cast<QMainWindow*>(window))
        for (QAction* top : mw->menuBar()->actions())
            if (top->menu())
                walk(top->menu(), top->menu()->title().remove('&'));
    for (QAction* a : window->findChildren<QAction*>())
        if (!a->isSeparator() && !a->menu() && !a->text().isEmpty() && seen.insert(a).second)
            out << a;
    return out;
}

CommandPalette::CommandPalette(QWidget* window) : QFrame(window, Qt::Popup)
{
    setObjectName("commandPalette");
    setFrameShape(QFrame::StyledPanel);
    model_ = new CommandModel(this);
    filter_ = new QLineEdit(this);
    filter_->setPlaceholderText("Type a command…");
    list_ = new QListView(this);
    list_->setModel(model_);
    list_->setUniformItemSizes(true);
    list_->setFrameShape(QFrame::NoFrame);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 6, 6, 6);
    layout->addWidget(filter_);
    layout->addWidget(list_);
    filter_->installEventFilter(this);
    connect(filter_, &QLineEdit::textChanged, this, [this](const QString& t) {
        model_->setFilter(t);
        list_->setCurrentIndex(model_->index(0));
    });
    connect(list_, &QListView::activated, this, [this] { triggerCurrent(); });
}

void CommandPalette::popup()
{
    QWidget* window = parentWidget();
    model_->setActions(collectActions(window));
    filter_->clear();
    model_->setFilter({});
    list_->setCurrentIndex(model_->index(0));
    const int w = std::min(640, window->width() - 40);
    resize(w, 360);
    move(window->mapToGlobal(QPoint((window->width() - w) / 2, 60)));
    show();
    filter_->setFocus();
}

bool CommandPalette::triggerCurrent()
{
    QAction* a = model_->actionAt(list_->currentIndex().row());
    hide();
    if (!a || !a->isEnabled())
        return false;
    a->trigger();
    return true;
}

bool CommandPalette::eventFilter(QObject* watched, QEvent* event)
{
    if (watched == filter_ && event->type() == QEvent::KeyPress) {
        auto* key = static_cast<QKeyEvent*>(event);
        const int row = list_->currentIndex().row();
        switch (key->key()) {
        case Qt::Key_Down: list_->setCurrentIndex(model_->index(std::min(row + 1, model_->rowCount() - 1))); return true;
        case Qt::Key_Up: list_->setCurrentIndex(model_->index(std::max(row - 1, 0))); return true;
        case Qt::Key_Return:
        case Qt::Key_Enter: triggerCurrent(); return true;
        case Qt::Key_Escape: hide(); return true;
        default: break;
        }
    }
    return QFrame::eventFilter(watched, event);
}

} // namespace stc::views
