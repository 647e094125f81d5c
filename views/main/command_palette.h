// Ctrl+Shift+P: a fuzzy-filtered list of every QAction of a window.
#pragma once

#include <QAbstractListModel>
#include <QFrame>
#include <QPointer>

class QAction;
class QLineEdit;
class QListView;

namespace stc::views {

// Subsequence match score (higher is better, < 0 = no match). Consecutive
// characters and word starts score extra, so "opf" ranks "Open File" first.
int fuzzyScore(const QString& pattern, const QString& text);

class CommandModel : public QAbstractListModel {
    Q_OBJECT
public:
    struct Entry {
        QPointer<QAction> action;
        QString text; // "File › Open…"
        QString shortcut;
        int score = 0;
    };
    explicit CommandModel(QObject* parent = nullptr);
    void setActions(const QList<QAction*>& actions);
    void setFilter(const QString& pattern);
    QAction* actionAt(int row) const;
    int rowCount(const QModelIndex& parent = {}) const override;
    QVariant data(const QModelIndex& index, int role) const override;

private:
    std::vector<Entry> all_;
    std::vector<int> visible_;
};

class CommandPalette : public QFrame {
    Q_OBJECT
public:
    explicit CommandPalette(QWidget* window);
    void popup(); // collects the window's actions, shows, focuses the filter
    CommandModel* model() const { return model_; }
    QLineEdit* filter() const { return filter_; }
    bool triggerCurrent();

protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

private:
    CommandModel* model_;
    QLineEdit* filter_;
    QListView* list_;
};

// Every enabled-or-not action reachable from the window's menus and toolbars,
// with its menu path as a prefix; separators and submenus skipped.
QList<QAction*> collectActions(QWidget* window);

} // namespace stc::views
