// Every page of the app, one line each: the path, who may see it, the page.
// The first entry whose path and role match wins; entries with `nav` appear
// in the menu (in this order).
import * as login from '/assets/pages/login.js';
import * as setup from '/assets/pages/setup.js';
import * as todo from '/assets/pages/todo.js';
import * as homework from '/assets/pages/homework.js';
import * as courses from '/assets/pages/courses.js';
import * as classes from '/assets/pages/classes.js';
import * as classPage from '/assets/pages/class.js';
import * as homeworkTeacher from '/assets/pages/homework-teacher.js';
import * as homeworkEdit from '/assets/pages/homework-edit.js';
import * as handIn from '/assets/pages/hand-in.js';
import * as coursesEdit from '/assets/pages/courses-edit.js';
import * as cards from '/assets/pages/cards.js';
import * as users from '/assets/pages/users.js';
import * as status from '/assets/pages/status.js';

const staff = ['teacher', 'admin'];

export const routes = [
  { path: '/app/login', public: true, render: login.render },
  { path: '/app/setup', public: true, render: setup.render },
  { path: '/', roles: ['student'], render: todo.render, nav: 'nav.todo' },
  { path: '/', roles: staff, render: classes.render, nav: 'nav.classes' },
  { path: '/app/homework/:id', roles: ['student'], render: homework.render },
  { path: '/app/homework/:id', roles: staff, render: homeworkTeacher.render },
  { path: '/app/homework/:id/edit', roles: staff, render: homeworkEdit.render },
  { path: '/app/homework/:id/hand-ins/:sid', roles: staff, render: handIn.render },
  { path: '/app/classes/:id', roles: staff, render: classPage.render },
  { path: '/app/classes/:id/homework/new', roles: staff, render: homeworkEdit.render },
  { path: '/app/classes/:id/courses', roles: staff, render: coursesEdit.render },
  { path: '/app/classes/:id/cards', roles: staff, render: cards.render },
  { path: '/app/courses', roles: ['student', 'teacher', 'admin'], render: courses.render, nav: 'nav.courses' },
  { path: '/app/users', roles: ['admin'], render: users.render, nav: 'nav.users' },
  { path: '/app/users', roles: ['teacher'], render: users.render, nav: 'nav.pupils' },
  { path: '/app/admin/status', roles: ['admin'], render: status.render, nav: 'nav.status' },
];
