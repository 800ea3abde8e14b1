// Every page of the app, one line each: the path, who may see it, the page.
// `home` entries answer "/" for their roles. Add teacher and administrator
// pages here.
import * as login from '/assets/pages/login.js';
import * as todo from '/assets/pages/todo.js';
import * as homework from '/assets/pages/homework.js';
import * as courses from '/assets/pages/courses.js';
import * as classes from '/assets/pages/classes.js';

export const routes = [
  { path: '/app/login', public: true, render: login.render },
  { path: '/', roles: ['student'], render: todo.render, nav: 'nav.todo' },
  { path: '/', roles: ['teacher', 'admin'], render: classes.render, nav: 'nav.classes' },
  { path: '/app/homework/:id', roles: ['student'], render: homework.render },
  { path: '/app/courses', roles: ['student', 'teacher', 'admin'], render: courses.render, nav: 'nav.courses' },
];
