#include "graph/graph_scene.h"

#include "common/theme.h"

#include <QApplication>
#include <QGraphicsSceneMouseEvent>
#include <QPainter>
#include <QPainterPath>
#include <QStyleOptionGraphicsItem>

#include <cmath>

namespace stc::views::graph {

namespace {

QString formatCount(int64_t n)
{
    if (n >= 1000000)
        return QString::number(double(n) / 1e6, 'f', 2) + " M";
    if (n >= 10000)
        return QString::number(double(n) / 1e3, 'f', 1) + " k";
    return QString::number(n);
}

class ClusterItem : public QGraphicsItem {
public:
    ClusterItem(const Cluster& c, const ClusterGeometry& g, int depth)
        : rect_(g.x, g.y, g.width, g.height), label_(QString::fromStdString(c.label)),
          path_(QString::fromStdString(c.path)), count_(c.opCount), depth_(depth)
    {
        setZValue(-10 + depth);
        setCacheMode(DeviceCoordinateCache);
        setToolTip(QString("%1 — %2 ops\nDouble-click the title to collapse").arg(path_).arg(count_));
    }
    QRectF boundingRect() const override { return rect_.adjusted(-1, -1, 1, 1); }
    void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override
    {
        const bool dark = theme::isDark();
        QColor fill = dark ? QColor(255, 255, 255, 10 + 6 * depth_) : QColor(30, 60, 110, 8 + 5 * depth_);
        QColor border = dark ? QColor(255, 255, 255, 45) : QColor(40, 60, 100, 60);
        p->setRenderHint(QPainter::Antialiasing);
        p->setPen(QPen(border, 1.0, Qt::DashLine));
        p->setBrush(fill);
        p->drawRoundedRect(rect_, 8, 8);
        QFont f = QApplication::font();
        f.setBold(true);
        f.setPointSizeF(f.pointSizeF() * 0.9);
        p->setFont(f);
        p->setPen(dark ? QColor("#aab4c4") : QColor("#4a5870"));
        p->drawText(rect_.adjusted(10, 4, -10, 0), Qt::AlignLeft | Qt::AlignTop,
                    QString("▾ %1  ·  %2 ops").arg(label_).arg(count_));
    }

private:
    QRectF rect_;
    QString label_, path_;
    int count_, depth_;
};

class EdgeItem : public QGraphicsItem {
public:
    EdgeItem(const EdgeGeometry& g, const QString& label, bool backEdge) : label_(label), back_(backEdge)
    {
        setZValue(-1);
        setCacheMode(DeviceCoordinateCache);
        if (g.path.empty())
            return;
        path_.moveTo(g.path[0].x, g.path[0].y);
        size_t i = 1;
        for (; i + 2 < g.path.size(); i += 3)
            path_.cubicTo(g.path[i].x, g.path[i].y, g.path[i + 1].x, g.path[i + 1].y, g.path[i + 2].x,
                          g.path[i + 2].y);
        for (; i < g.path.size(); ++i)
            path_.lineTo(g.path[i].x, g.path[i].y);
        tip_ = QPointF(g.path.back().x, g.path.back().y);
        const QPointF before = path_.pointAtPercent(std::max(0.0, 1.0 - 8.0 / std::max(8.0, path_.length())));
        QLineF dir(before, tip_);
        if (dir.length() < 0.01)
            dir = QLineF(tip_ - QPointF(0, 1), tip_);
        dir.setLength(7);
        const QLineF back(tip_, tip_ - (dir.p2() - dir.p1()));
        QLineF side = back.normalVector();
        side.setLength(3.5);
        arrow_ << tip_ << back.p2() + (side.p2() - side.p1()) << back.p2() - (side.p2() - side.p1());
        if (g.hasLabel && !label_.isEmpty())
            labelPos_ = QPointF(g.labelPos.x, g.labelPos.y);
        bounds_ = path_.boundingRect().united(arrow_.boundingRect()).adjusted(-2, -2, 2, 2);
        if (!labelPos_.isNull())
            bounds_ = bounds_.united(QRectF(labelPos_.x() - 90, labelPos_.y() - 10, 180, 20));
    }
    QRectF boundingRect() const override { return bounds_; }
    void paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*) override
    {
        const bool dark = theme::isDark();
        // A recurrent back edge: dashed, in the accent colour.
        const QColor c = back_ ? (dark ? QColor("#d19a66") : QColor("#c0701f"))
                               : (dark ? QColor("#7f8896") : QColor("#8793a3"));
        p->setRenderHint(QPainter::Antialiasing);
        p->setPen(QPen(c, back_ ? 1.6 : 1.3, back_ ? Qt::DashLine : Qt::SolidLine));
        p->setBrush(Qt::NoBrush);
        p->drawPath(path_);
        p->setPen(Qt::NoPen);
        p->setBrush(c);
        p->drawPolygon(arrow_);
        if (!labelPos_.isNull()) {
            QFont f = QApplication::font();
            f.setPointSizeF(f.pointSizeF() * 0.78);
            p->setFont(f);
            p->setPen(dark ? QColor("#9aa3b0") : QColor("#5d6877"));
            p->drawText(QRectF(labelPos_.x() - 90, labelPos_.y() - 9, 180, 18), Qt::AlignCenter, label_);
        }
    }

private:
    QPainterPath path_;
    QPolygonF arrow_;
    QPointF tip_, labelPos_;
    QRectF bounds_;
    QString label_;
    bool back_ = false;
};

} // namespace

NodeItem::NodeItem(const Node& node, const NodeGeometry& g)
    : node_(node), rect_(-g.width / 2, -g.height / 2, g.width, g.height)
{
    setPos(g.x, g.y);
    setFlags(ItemIsSelectable);
    setCacheMode(DeviceCoordinateCache);
    QString tip = QString::fromStdString(node.title) + "\n" + QString::fromStdString(node.subtitle);
    if (node.parameters > 0)
        tip += QString("\n%1 parameters").arg(node.parameters);
    if (node.kind == NodeKind::Group)
        tip += "\nDouble-click to expand";
    setToolTip(tip);
}

QRectF NodeItem::boundingRect() const { return rect_.adjusted(-4, -4, 4, 4); }

void NodeItem::setError(bool error)
{
    if (error_ == error)
        return;
    error_ = error;
    update();
}

void NodeItem::setHighlight(bool on)
{
    if (highlight_ == on)
        return;
    highlight_ = on;
    update();
}

void NodeItem::setActivity(double firingRate)
{
    firingRate_ = firingRate;
    update();
}

QVariant NodeItem::itemChange(GraphicsItemChange change, const QVariant& value)
{
    if (change == ItemSelectedHasChanged)
        setZValue(value.toBool() ? 2 : 0);
    return QGraphicsItem::itemChange(change, value);
}

void NodeItem::paint(QPainter* p, const QStyleOptionGraphicsItem*, QWidget*)
{
    const bool dark = theme::isDark();
    const QPalette pal = QApplication::palette();
    const QColor accent = theme::categoryColor(QString::fromStdString(node_.category), dark);
    p->setRenderHint(QPainter::Antialiasing);

    QColor fill = dark ? QColor("#2c3036") : QColor("#ffffff");
    if (node_.kind == NodeKind::Group)
        fill = dark ? QColor("#333a47") : QColor("#eef2f8");
    QPen border(dark ? QColor("#4a505a") : QColor("#c5cbd4"), 1.0);
    if (highlight_)
        border = QPen(QColor("#f0b400"), 2.5);
    if (error_)
        border = QPen(theme::errorColor(dark), 2.5);
    if (isSelected())
        border = QPen(pal.color(QPalette::Highlight), 2.5);
    p->setPen(border);
    p->setBrush(fill);
    p->drawRoundedRect(rect_, 6, 6);
    if (node_.kind == NodeKind::Group) {
        // A second outline suggests a stack of ops.
        p->setBrush(Qt::NoBrush);
        p->setPen(QPen(border.color(), 1.0));
        p->drawRoundedRect(rect_.adjusted(3, 3, -3, -3), 4, 4);
    }

    // Category stripe on the left.
    QPainterPath stripe;
    stripe.addRoundedRect(QRectF(rect_.left(), rect_.top(), 10, rect_.height()), 6, 6);
    QPainterPath clip;
    clip.addRect(QRectF(rect_.left(), rect_.top(), 5, rect_.height()));
    p->setPen(Qt::NoPen);
    p->setBrush(accent);
    p->drawPath(stripe.intersected(clip));

    const QRectF text = rect_.adjusted(12, 4, -8, -4);
    QFont f = QApplication::font();
    f.setBold(true);
    f.setPointSizeF(f.pointSizeF() * 0.92);
    p->setFont(f);
    p->setPen(pal.color(QPalette::Text));
    p->drawText(text, Qt::AlignLeft | Qt::AlignTop, QString::fromStdString(node_.title));
    f.setBold(false);
    f.setPointSizeF(f.pointSizeF() * 0.88);
    p->setFont(f);
    p->setPen(dark ? QColor("#9aa3b0") : QColor("#5d6877"));
    QString sub = QString::fromStdString(node_.subtitle);
    if (node_.parameters > 0)
        sub += QString("  ·  %1 p").arg(formatCount(node_.parameters));
    p->drawText(text, Qt::AlignLeft | Qt::AlignBottom, sub);

    if (firingRate_ >= 0) {
        // Firing-rate bar along the bottom edge.
        const QRectF bar(rect_.left() + 6, rect_.bottom() - 3, (rect_.width() - 12) * std::min(1.0, firingRate_), 2.5);
        p->setBrush(QColor("#f2a65a"));
        p->drawRect(bar);
    }
    if (error_) {
        const QRectF badge(rect_.right() - 14, rect_.top() - 6, 16, 16);
        p->setPen(Qt::NoPen);
        p->setBrush(theme::errorColor(dark));
        p->drawEllipse(badge);
        p->setPen(Qt::white);
        QFont bf = QApplication::font();
        bf.setBold(true);
        p->setFont(bf);
        p->drawText(badge, Qt::AlignCenter, "!");
    }
}

GraphScene::GraphScene(QObject* parent) : QGraphicsScene(parent)
{
    setItemIndexMethod(QGraphicsScene::BspTreeIndex);
    connect(this, &QGraphicsScene::selectionChanged, this, [this] {
        if (updatingSelection_)
            return;
        const auto items = selectedItems();
        int op = -1;
        for (auto* item : items)
            if (auto* node = dynamic_cast<NodeItem*>(item)) {
                op = node->node().opIndex >= 0 ? node->node().opIndex : node->node().opIndices.front();
                break;
            }
        emit opSelected(op);
    });
}

void GraphScene::setGraph(GraphData data, const Layout& layout)
{
    updatingSelection_ = true;
    clear();
    nodeItems_.clear();
    clusterRects_.clear();
    data_ = std::move(data);
    for (size_t i = 0; i < data_.clusters.size() && i < layout.clusters.size(); ++i) {
        const Cluster& c = data_.clusters[i];
        const int depth = int(std::count(c.path.begin(), c.path.end(), '.'));
        addItem(new ClusterItem(c, layout.clusters[i], depth));
        const ClusterGeometry& g = layout.clusters[i];
        clusterRects_.push_back({QRectF(g.x, g.y, g.width, 22), QString::fromStdString(c.path)});
    }
    for (size_t i = 0; i < data_.edges.size() && i < layout.edges.size(); ++i)
        addItem(new EdgeItem(layout.edges[i], QString::fromStdString(data_.edges[i].label), data_.edges[i].backEdge));
    for (const Node& n : data_.nodes) {
        auto* item = new NodeItem(n, layout.nodes[size_t(n.id)]);
        addItem(item);
        nodeItems_.push_back(item);
    }
    setSceneRect(QRectF(-40, -40, layout.width + 80, layout.height + 80));
    updatingSelection_ = false;
}

NodeItem* GraphScene::itemForNode(int nodeId) const
{
    return nodeId >= 0 && nodeId < int(nodeItems_.size()) ? nodeItems_[size_t(nodeId)] : nullptr;
}

NodeItem* GraphScene::itemForOp(int opIndex) const
{
    if (opIndex < 0 || opIndex >= int(data_.nodeOfOp.size()))
        return nullptr;
    return itemForNode(data_.nodeOfOp[size_t(opIndex)]);
}

void GraphScene::setErrorOps(const std::vector<int>& ops)
{
    std::set<int> errorNodes;
    for (int op : ops)
        if (op >= 0 && op < int(data_.nodeOfOp.size()))
            errorNodes.insert(data_.nodeOfOp[size_t(op)]);
    for (NodeItem* item : nodeItems_)
        item->setError(errorNodes.count(item->node().id) > 0);
}

void GraphScene::setActivity(const std::map<int, double>& firingRateByOp)
{
    for (NodeItem* item : nodeItems_) {
        auto it = firingRateByOp.find(item->node().opIndex);
        item->setActivity(it == firingRateByOp.end() ? -1.0 : it->second);
    }
}

std::vector<int> GraphScene::search(const QString& text)
{
    std::vector<int> matches;
    for (NodeItem* item : nodeItems_) {
        const Node& n = item->node();
        const bool hit = !text.isEmpty() && (QString::fromStdString(n.title).contains(text, Qt::CaseInsensitive) ||
                                             QString::fromStdString(n.subtitle).contains(text, Qt::CaseInsensitive));
        item->setHighlight(hit);
        if (hit)
            matches.push_back(n.id);
    }
    return matches;
}

void GraphScene::highlightOps(const std::set<int>& ops)
{
    for (NodeItem* item : nodeItems_) {
        bool hit = false;
        for (int op : item->node().opIndices)
            hit = hit || ops.count(op);
        item->setHighlight(hit);
    }
}

void GraphScene::selectOp(int opIndex)
{
    updatingSelection_ = true;
    clearSelection();
    if (NodeItem* item = itemForOp(opIndex))
        item->setSelected(true);
    updatingSelection_ = false;
}

void GraphScene::mouseDoubleClickEvent(QGraphicsSceneMouseEvent* event)
{
    for (QGraphicsItem* item : items(event->scenePos()))
        if (auto* node = dynamic_cast<NodeItem*>(item); node && node->node().kind == NodeKind::Group) {
            emit groupToggleRequested(QString::fromStdString(node->node().title));
            return;
        }
    // Innermost cluster whose title bar was hit (later entries are deeper).
    for (auto it = clusterRects_.rbegin(); it != clusterRects_.rend(); ++it)
        if (it->first.contains(event->scenePos())) {
            emit groupToggleRequested(it->second);
            return;
        }
    QGraphicsScene::mouseDoubleClickEvent(event);
}

} // namespace stc::views::graph
