// The words of the console's recordings, flows and users pages, Chinese (default) and
// English. Loaded before admin.js.
"use strict";

const WORDS = {
  zh: {
    recordingsTitle: "acd 录音", flowsTitle: "acd 流程编辑", usersTitle: "acd 用户",
    login: "登录", username: "用户名", password: "密码", signIn: "登录", logout: "退出",
    badLogin: "用户名或密码错误", switchTo: "English", wallboard: "监控墙",
    recordings: "录音", flows: "IVR 流程", users: "用户",
    notAllowed: "此页面仅供管理员使用。", notAllowedRec: "此页面仅供班长和管理员使用。",
    from: "开始", to: "结束", agent: "工号", queue: "队列", caller: "主叫",
    survey: "满意度", any: "全部", minSeconds: "最短(秒)", maxSeconds: "最长(秒)",
    search: "查询", more: "更多", time: "时间", duration: "时长", play: "播放",
    download: "下载", noneFound: "没有找到录音", s1: "满意", s2: "一般", s3: "不满意",
    "not-surveyed": "未评价", "no-answer": "未按键",
    check: "检查", save: "保存", saved: "已保存", valid: "没有错误",
    versions: "历史版本", view: "查看", restore: "恢复", restored: "已恢复",
    unsaved: "未保存的修改", errorsFound: "个错误，未保存", changedMeanwhile: "文件已被修改，请重新打开",
    name: "用户名", role: "角色", agentId: "坐席工号", device: "话机", add: "添加",
    remove: "删除", removed: "已删除", newPassword: "新密码", source: "来源",
  },
  en: {
    recordingsTitle: "acd recordings", flowsTitle: "acd flow editor", usersTitle: "acd users",
    login: "Log in", username: "User name", password: "Password", signIn: "Log in",
    logout: "Log out", badLogin: "Wrong user name or password", switchTo: "中文",
    wallboard: "Wallboard", recordings: "Recordings", flows: "IVR flows", users: "Users",
    notAllowed: "This page is for admins.",
    notAllowedRec: "This page is for supervisors and admins.",
    from: "From", to: "To", agent: "Agent", queue: "Queue", caller: "Caller",
    survey: "Survey", any: "any", minSeconds: "Min (s)", maxSeconds: "Max (s)",
    search: "Search", more: "More", time: "Time", duration: "Length", play: "Play",
    download: "Download", noneFound: "No recordings found", s1: "satisfied",
    s2: "average", s3: "unsatisfied", "not-surveyed": "not surveyed",
    "no-answer": "no answer",
    check: "Check", save: "Save", saved: "saved", valid: "no errors",
    versions: "Earlier versions", view: "View", restore: "Restore", restored: "restored",
    unsaved: "unsaved changes", errorsFound: "error(s), not saved",
    changedMeanwhile: "the file changed meanwhile: reopen it",
    name: "User name", role: "Role", agentId: "Agent", device: "Phone", add: "Add",
    remove: "Remove", removed: "removed", newPassword: "New password", source: "Source",
  },
};
